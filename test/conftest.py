"""Shared pytest set-up: DDS stays on loopback and each run gets its own ROS domain."""
import os
import random
from pathlib import Path

# Before anything imports rclpy: keep discovery on this machine, one domain per test run.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(random.Random(os.getpid()).randint(1, 100)))
# Large images need Fast DDS's 16 MB shared-memory segment (config/fastdds_shm.xml explains why).
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE',
                      str(Path(__file__).resolve().parents[1] / 'config' / 'fastdds_shm.xml'))

# The real recordings nobody here made (../shared/data/real beside the checkout; never copied into the repo).
_REAL = [Path(__file__).resolve().parents[1].parent / 'shared' / 'data' / 'real', Path('/work/shared/data/real')]
os.environ.setdefault('SELFDEPTH_REAL_DATA', str(next((p for p in _REAL if p.is_dir()), _REAL[0])))

import pytest  # noqa: E402


@pytest.fixture
def ros_context():
    """A dedicated, initialised ``rclpy`` Context for one test (shut down afterwards); skips without rclpy."""
    rclpy = pytest.importorskip('rclpy')
    ctx = rclpy.context.Context()
    rclpy.init(context=ctx)
    try:
        yield ctx
    finally:
        if ctx.ok():
            rclpy.shutdown(context=ctx)


def spin_until(executor, predicate, timeout_s: float = 10.0, step_s: float = 0.02) -> bool:
    """Spin ``executor`` until ``predicate()`` is true or ``timeout_s`` passes; returns the final predicate."""
    import time
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return bool(predicate())
        executor.spin_once(timeout_sec=step_s)
    return True


@pytest.fixture
def spin():
    """The :func:`spin_until` helper, as a fixture (test modules are imported with importlib mode)."""
    return spin_until


@pytest.fixture(scope='session')
def tiny_drive(tmp_path_factory):
    """A 6-frame 96×32 synthetic drive (seed 3) for tests that need any valid bag."""
    from selfdepth_ros.cli import main as selfdepth
    out = tmp_path_factory.mktemp('tiny_drive') / 'drive'
    assert selfdepth(['simulate', '--out', str(out), '--frames', '6', '--width', '96', '--height', '32',
                      '--seed', '3', '--quiet']) == 0
    return out
