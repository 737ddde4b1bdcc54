"""Open a report in headless Chromium and read back whether every figure loaded (and optionally screenshot it).

``python -m selfdepth_ros.eval.browser_check REPORT/index.html [--screenshot OUT.png]`` prints the status and
exits non-zero when a figure is missing. Chromium is Debian's ``chromium`` (``scripts/install_chromium.sh``).
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Flags: no sandbox (root in containers), no GPU, and nothing that phones home or needs a profile.
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--disable-dev-shm-usage', '--hide-scrollbars', '--virtual-time-budget=10000')

_STATUS_RE = re.compile(r'<p id="report-status"([^>]*)>')
_ATTR_RE = re.compile(r'data-([a-z-]+)="([^"]*)"')


def find_chromium() -> str | None:
    """Path of a Chromium binary on PATH, or None."""
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(chromium: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix='selfdepth-chromium-') as profile:
        return subprocess.run([chromium, *CHROMIUM_FLAGS, f'--user-data-dir={profile}', *args],
                              capture_output=True, text=True, timeout=timeout, check=False)


def check_report(html_path: Path | str, screenshot: Path | str | None = None, window_size: tuple[int, int] = (1400, 3000),
                 chromium: str | None = None, timeout: float = 90.0) -> dict:
    """Load ``html_path`` in headless Chromium, return the ``#report-status`` attributes written by its script.

    Returns:
        ``{'state': 'ok'|'broken'|'pending'|'missing', 'images': int, 'broken': int, 'broken_src': [...],
        'screenshot': path or None, 'stderr': str}``.
    Raises:
        FileNotFoundError when no Chromium is installed or the page does not exist.
    """
    page = Path(html_path).resolve()
    if not page.is_file():
        raise FileNotFoundError(f'html_path {page} does not exist')
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError('no chromium on PATH (run scripts/install_chromium.sh)')
    url = page.as_uri()
    proc = _run(chromium, ['--dump-dom', url], timeout)
    match = _STATUS_RE.search(proc.stdout)
    attrs = dict(_ATTR_RE.findall(match.group(1))) if match else {}
    result = {'state': attrs.get('state', 'missing'), 'images': int(attrs.get('images', 0)),
              'broken': int(attrs.get('broken', 0)), 'broken_src': attrs.get('broken-src', '').split(),
              'screenshot': None, 'returncode': proc.returncode, 'stderr': proc.stderr[-2000:]}
    if screenshot is not None:
        shot = Path(screenshot).resolve()
        proc = _run(chromium, [f'--screenshot={shot}', f'--window-size={window_size[0]},{window_size[1]}', url],
                    timeout)
        result['screenshot'] = str(shot) if shot.is_file() else None
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m selfdepth_ros.eval.browser_check', description=__doc__)
    parser.add_argument('html', help='the report index.html')
    parser.add_argument('--screenshot', help='also write a full-page PNG screenshot here')
    args = parser.parse_args(argv)
    status = check_report(args.html, args.screenshot)
    print(f"state={status['state']} images={status['images']} broken={status['broken']} "
          f"{' '.join(status['broken_src'])} screenshot={status['screenshot']}")
    return 0 if status['state'] == 'ok' else 1


if __name__ == '__main__':
    sys.exit(main())
