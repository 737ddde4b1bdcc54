"""``selfdepth bag-info BAG [--salvage-only]``: topics, types, counts, stamps, cameras; salvages a truncated MCAP."""
from __future__ import annotations

import argparse
import sys
import warnings

from selfdepth_ros.bag import messages as m
from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.bag.samples import CameraInfoSample


def _describe(bag: BagReader) -> list[str]:
    lines = [f'bag: {bag.path}', f'storage: {bag.storage}', f'salvaged: {bag.salvaged}']
    for res in bag.salvage_results:
        lines.append(f'  {res.path.name}: {res.recovered} messages recovered, about {res.lost_messages_estimate} '
                     f'lost ({res.lost_bytes} bytes unreadable): {res.reason}')
    lines.append('topics:')
    width = max(len(t) for t in bag.topics)
    for topic, info in bag.topics.items():
        lines.append(f'  {topic:<{width}}  {info.msgtype:<40} {info.count:>7}')
        if info.msgtype == m.CAMERA_INFO:
            first = next((s for s in bag.samples(topic) if isinstance(s, CameraInfoSample)), None)
            if first is not None:
                K = first.K
                lines.append(f'    {first.width}×{first.height} fx={K[0, 0]:.2f} fy={K[1, 1]:.2f} '
                             f'cx={K[0, 2]:.2f} cy={K[1, 2]:.2f} model={first.distortion_model}')
    if any(bag.skipped.values()):
        lines.append(f'corrupt messages skipped: {bag.skipped}')
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='selfdepth bag-info', description=__doc__)
    parser.add_argument('bag', help='rosbag2 directory or .mcap file')
    parser.add_argument('--no-salvage', action='store_true', help='fail on a truncated MCAP instead of salvaging')
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            with BagReader(args.bag, salvage=not args.no_salvage) as bag:
                lines = _describe(bag)
    except BagError as exc:
        print(f'selfdepth bag-info: {exc}', file=sys.stderr)
        return 1
    for w in caught:
        print(f'warning: {w.message}', file=sys.stderr)
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
