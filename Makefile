# selfdepth_ros: the two commands are `make demo` and `make test`; both set everything up first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
REQ_HASH := $(shell cat requirements.txt requirements-core.txt setup.py | sha1sum | cut -c1-12)
STAMP := $(VENV)/.stamp-$(REQ_HASH)
# Keep every DDS packet on this machine, and give each run its own domain.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export ROS_DOMAIN_ID ?= $(shell $(PYTHON) -c "import os,random; print(random.Random(os.getpid()).randint(1, 100))")
export FASTDDS_DEFAULT_PROFILES_FILE := $(CURDIR)/config/fastdds_shm.xml

.PHONY: setup demo test test-slow bench clean

setup: $(STAMP)
	@bash scripts/install_chromium.sh  # headless browser for the report check (idempotent, fast when present)

$(STAMP): requirements.txt requirements-core.txt setup.py
	@echo "== setting up $(VENV) (skipped on later runs until requirements.txt changes)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m selfdepth_ros.nodes.tf2_msgs_gen --venv $(VENV)
	rm -f $(VENV)/.stamp-*
	touch $@

demo: setup
	$(PY) -m selfdepth_ros.cli demo

test: setup
	$(PY) -m pytest -q -m "not slow"; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$rc

test-slow: setup
	$(PY) -m pytest -q -m slow

bench: setup
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) build install log .pytest_cache
