"""``perception_node``: the executable ``ros2 run selfdepth_ros perception_node`` and the launch files start.

    ros2 run selfdepth_ros perception_node [--lifecycle [--autostart]] --ros-args -r image:=/cam/image ...

Without remaps the inputs are ``/camera/image_raw`` and ``/camera/camera_info`` (as ``selfdepth run``).
``--lifecycle`` runs the managed variant (``lifecycle_node.py``), unconfigured until a manager drives it, or
configured and activated at start with ``--autostart``.

The node itself is in ``node.py``, the executor and ``spin`` in ``executor.py``; ``PerceptionNode``,
``default_predictor``, ``make_executor`` and ``spin`` are re-exported here for existing importers
(``bench/node_latency.py``).
"""
from __future__ import annotations

import sys

from .executor import make_executor, spin  # noqa: F401 - re-exported
from .lifecycle_node import node_variant
from .node import PerceptionNode, default_predictor  # noqa: F401 - re-exported
from .run import INPUT_DEFAULTS, LIFECYCLE_FLAGS, NODE_NAME

NODE_FLAGS = LIFECYCLE_FLAGS
"""Arguments of this executable (before ``--ros-args``); everything else goes to rclpy."""


def with_default_remaps(args: list[str]) -> list[str]:
    """Add ``image:=/camera/image_raw`` / ``camera_info:=/camera/camera_info`` unless ``args`` remap them."""
    given = {args[i + 1].split(':=')[0] for i, a in enumerate(args[:-1]) if a in ('-r', '--remap')}
    extra = [x for src, dst in INPUT_DEFAULTS.items() if src not in given for x in ('-r', f'{src}:={dst}')]
    return list(args) + (['--ros-args'] + extra if extra else [])  # several --ros-args sections are allowed


def split_node_flags(argv: list[str]) -> tuple[set[str], list[str]]:
    """``argv`` → (the :data:`NODE_FLAGS` given before ``--ros-args``, the rest)."""
    end = argv.index('--ros-args') if '--ros-args' in argv else len(argv)
    flags = {a for a in argv[:end] if a in NODE_FLAGS}
    return flags, [a for i, a in enumerate(argv) if not (i < end and a in NODE_FLAGS)]


def main(args: list[str] | None = None) -> int:
    """Console entry point ``perception_node`` (what ``ros2 run`` / the launch files start)."""
    flags, argv = split_node_flags(sys.argv if args is None else list(args))
    if '--autostart' in flags and '--lifecycle' not in flags:
        print('perception_node: --autostart applies to --lifecycle only', file=sys.stderr)
        return 2
    factory, start = node_variant(NODE_NAME, '--lifecycle' in flags, '--autostart' in flags)
    return spin(factory, with_default_remaps(argv), start=start)


if __name__ == '__main__':
    sys.exit(main())
