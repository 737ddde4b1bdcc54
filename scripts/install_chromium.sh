#!/usr/bin/env bash
# Idempotent: install Debian's chromium for the report's headless-browser check; exits at once if present.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium  # recommends bring the fonts (fonts-liberation)
/usr/bin/chromium --version
