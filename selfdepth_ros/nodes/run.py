"""``selfdepth run``: start the perception node graph in one process, without ``launch_ros``.

Same executable logic, parameter file and remaps as ``launch/perception.launch.py``: both are built from the
constants below, and ``test/nodes/test_launch_agreement.py`` checks that they agree.

    selfdepth run --config config/perception.yaml --remap image:=/cam/image --param device:=cpu
    selfdepth run --checkpoint runs/a/checkpoints/step_0001000.pt --ros-args -p device:=cpu

No DDS profile is forced: ``--fastdds-profile config/fastdds_shm.xml`` opts in to the 16 MB shared-memory
segment for large images between processes on one host. ``--lifecycle`` runs the managed (lifecycle) node,
unconfigured until ``ros2 lifecycle set`` or a manager drives it; ``--autostart`` configures and activates it.

The node (``node.py``, ``lifecycle_node.py``) and how it is spun (``executor.py``) live elsewhere: this module
only turns arguments into ``--ros-args``, so the launch files, ``perception_node`` and replay can share it.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NODE_NAME = 'selfdepth'
PACKAGE = 'selfdepth_ros'
EXECUTABLE = 'perception_node'            # console_scripts entry point -> selfdepth_ros.nodes.perception_node:main
LIFECYCLE_FLAGS = ('--lifecycle', '--autostart')  # that executable's own flags (launch: lifecycle/autostart args)
INPUT_DEFAULTS = {'image': '/camera/image_raw', 'camera_info': '/camera/camera_info'}
REPO_CONFIG = Path(__file__).resolve().parents[2] / 'config'
LOG_LEVELS = ('debug', 'info', 'warn', 'error', 'fatal')
DEFAULT_LOG_LEVEL = 'info'


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


def _split_ros_args(argv: list[str]) -> tuple[list[str], dict[str, str], list[str], list[str]]:
    """``argv`` → (our arguments, remaps, parameters, other ROS arguments) from any ``--ros-args`` sections.

    ``-r/--remap`` and ``-p/--param`` rules there are merged with ``--remap``/``--param`` (and win over the
    defaults: rcl takes the first matching remap, so they cannot just be appended); everything else
    (``--log-level``, ``-e``, ...) is passed to rclpy as given.
    """
    if '--ros-args' not in argv:
        return list(argv), {}, [], []
    i = argv.index('--ros-args')
    ours, rest = list(argv[:i]), list(argv[i + 1:])
    remaps, params, other = {}, [], []
    k = 0
    while k < len(rest):
        a = rest[k]
        if a == '--':  # end of the ROS arguments; anything after belongs to us
            ours += rest[k + 1:]
            break
        if a in ('-r', '--remap', '-p', '--param') and k + 1 < len(rest):
            if a in ('-r', '--remap'):
                key, value = _pair(rest[k + 1], '--ros-args -r')
                remaps[key] = value
            else:
                _pair(rest[k + 1], '--ros-args -p')
                params.append(rest[k + 1])
            k += 2
            continue
        if a != '--ros-args':
            other.append(a)
        k += 1
    return ours, remaps, params, other


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog='selfdepth run', description=__doc__.splitlines()[0],
                                 epilog='ROS arguments may follow --ros-args, as with `ros2 run`: '
                                        'selfdepth run --ros-args -p device:=cpu -r image:=/cam/image')
    ap.add_argument('--config', type=Path, default=None, help='ROS 2 parameter YAML (default: config/perception.yaml)')
    ap.add_argument('--checkpoint', default=None,
                    help="weights (.pt), 'shipped' (the installed model) or '' (untrained); default: the YAML's")
    ap.add_argument('--remap', action='append', default=[], metavar='FROM:=TO',
                    help='topic remap, e.g. image:=/cam/image (repeatable)')
    ap.add_argument('--param', action='append', default=[], metavar='NAME:=VALUE',
                    help='parameter override after the YAML, e.g. device:=cpu (repeatable)')
    ap.add_argument('--namespace', default='', help='node namespace (outputs become /NS/selfdepth/...)')
    ap.add_argument('--name', default=NODE_NAME, help='node name (default selfdepth)')
    ap.add_argument('--use-sim-time', action='store_true', help='follow /clock (bag replay with --clock)')
    ap.add_argument('--log-level', default=DEFAULT_LOG_LEVEL, choices=LOG_LEVELS, help='console log level')
    ap.add_argument('--lifecycle', action='store_true',
                    help='the managed (lifecycle) node: waits unconfigured for `ros2 lifecycle set` or a manager')
    ap.add_argument('--autostart', action='store_true',
                    help='with --lifecycle: configure and activate at start (a refused model: one line, exit 2)')
    ap.add_argument('--fastdds-profile', type=Path, default=None,
                    help='Fast DDS XML profile to load (e.g. config/fastdds_shm.xml for large images on one host); '
                         'default: none, or FASTDDS_DEFAULT_PROFILES_FILE as set by the caller')
    return ap


def ros_args_for(argv: list[str], ap: argparse.ArgumentParser | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Parse ``selfdepth run`` arguments: (namespace, the ``--ros-args ...`` list for the node).

    The same inputs as ``perception.launch.py``'s arguments give the same parameters and remaps
    (``test/nodes/test_launch_agreement.py``). Raises ``SystemExit`` (argparse) on a malformed argument.
    """
    ap = ap or build_parser()
    try:
        ours, ros_remaps, ros_params, ros_other = _split_ros_args(list(argv))
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))
    args = ap.parse_args(ours)
    try:
        remaps = dict(_pair(r, '--remap') for r in args.remap)
        for p in args.param:
            _pair(p, '--param')
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))
    config = args.config or config_dir() / 'perception.yaml'
    if not config.exists():
        ap.error(f'--config: {config} does not exist')
    checkpoint = None if args.checkpoint is None else (args.checkpoint or "''")  # '' must reach rcl quoted
    params = [] if checkpoint is None else [f'checkpoint:={checkpoint}']
    params += list(args.param) + ros_params + [f"use_sim_time:={'true' if args.use_sim_time else 'false'}"]
    ros_args = build_ros_args(config, {**remaps, **ros_remaps}, params, args.namespace, args.name)
    ros_args += ([] if '--log-level' in ros_other else ['--log-level', args.log_level]) + ros_other
    return args, ros_args


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args, ros_args = ros_args_for(sys.argv[1:] if argv is None else argv, ap)
    if args.fastdds_profile is not None:  # opt-in only; must be set before rclpy.init
        if not args.fastdds_profile.is_file():
            ap.error(f'--fastdds-profile: {args.fastdds_profile} does not exist')
        os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] = str(args.fastdds_profile.resolve())
    if args.autostart and not args.lifecycle:
        ap.error('--autostart applies to --lifecycle only (the plain node always starts)')
    from . import executor
    from .lifecycle_node import node_variant
    factory, start = node_variant(args.name, args.lifecycle, args.autostart)
    print('selfdepth run: ' + ' '.join(ros_args), flush=True)
    return executor.spin(factory, ['selfdepth'] + ros_args, start=start)


if __name__ == '__main__':
    sys.exit(main())
