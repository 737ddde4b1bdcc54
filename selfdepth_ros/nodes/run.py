"""``selfdepth run``: start the perception node graph in one process, without ``launch_ros``.

Same executable logic, parameter file and remaps as ``launch/perception.launch.py``: both are built from the
constants below, and ``test/nodes/test_launch_agreement.py`` checks that they agree.

    selfdepth run --config config/perception.yaml --remap image:=/cam/image --param device:=cpu
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NODE_NAME = 'selfdepth'
PACKAGE = 'selfdepth_ros'
EXECUTABLE = 'perception_node'            # console_scripts entry point -> selfdepth_ros.nodes.perception_node:main
INPUT_DEFAULTS = {'image': '/camera/image_raw', 'camera_info': '/camera/camera_info'}
REPO_CONFIG = Path(__file__).resolve().parents[2] / 'config'


def config_dir() -> Path:
    """``config/`` of the source tree, else the installed ``share/selfdepth_ros/config``."""
    if (REPO_CONFIG / 'perception.yaml').exists():
        return REPO_CONFIG
    from ament_index_python.packages import get_package_share_directory
    return Path(get_package_share_directory(PACKAGE)) / 'config'


def _pair(text: str, what: str) -> tuple[str, str]:
    key, sep, value = text.partition(':=')
    if not sep or not key:
        raise argparse.ArgumentTypeError(f'{what} must look like NAME:=VALUE, got {text!r}')
    return key, value


def build_ros_args(config: str | Path, remaps: dict[str, str] | None = None, params: list[str] | None = None,
                   namespace: str = '', name: str = NODE_NAME) -> list[str]:
    """The ``--ros-args`` a launch of ``perception.launch.py`` gives the node, for the same inputs.

    ``remaps`` override :data:`INPUT_DEFAULTS` (and may add other ``from:=to`` rules); ``params`` are
    ``name:=value`` strings (YAML values, as ``ros2 run -p``) applied after the file.
    """
    rules = {**INPUT_DEFAULTS, **(remaps or {})}
    args = ['--ros-args', '-r', f'__node:={name}']
    if namespace:
        args += ['-r', f"__ns:=/{namespace.strip('/')}"]
    args += ['--params-file', str(config)]
    for src, dst in rules.items():
        args += ['-r', f'{src}:={dst}']
    for p in params or []:
        args += ['-p', p]
    return args


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog='selfdepth run', description=__doc__.splitlines()[0])
    ap.add_argument('--config', type=Path, default=None, help='ROS 2 parameter YAML (default: config/perception.yaml)')
    ap.add_argument('--remap', action='append', default=[], metavar='FROM:=TO',
                    help='topic remap, e.g. image:=/cam/image (repeatable)')
    ap.add_argument('--param', action='append', default=[], metavar='NAME:=VALUE',
                    help='parameter override after the YAML, e.g. device:=cpu (repeatable)')
    ap.add_argument('--namespace', default='', help='node namespace (outputs become /NS/selfdepth/...)')
    ap.add_argument('--name', default=NODE_NAME, help='node name (default selfdepth)')
    args = ap.parse_args(argv)
    try:
        remaps = dict(_pair(r, '--remap') for r in args.remap)
        for p in args.param:
            _pair(p, '--param')
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))
    config = args.config or config_dir() / 'perception.yaml'
    if not config.exists():
        ap.error(f'--config: {config} does not exist')
    # Large images need the 16 MB shared-memory segment (config/fastdds_shm.xml); must be set before rclpy.init.
    os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(config_dir() / 'fastdds_shm.xml'))
    from .perception_node import PerceptionNode, spin
    ros_args = ['selfdepth'] + build_ros_args(config, remaps, args.param, args.namespace, args.name)
    print('selfdepth run: ' + ' '.join(ros_args[1:]), flush=True)
    return spin(lambda: PerceptionNode(args.name), ros_args)


if __name__ == '__main__':
    sys.exit(main())
