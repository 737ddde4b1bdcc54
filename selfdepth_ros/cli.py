"""The ``selfdepth`` command line: one subcommand per job, each implemented in its own module.

Each entry maps a subcommand to ``module:function``; the function takes ``argv`` (the arguments after
the subcommand) and returns an exit code. Modules are imported lazily so ``selfdepth --help`` is fast
and the runtime never imports ``training`` unless a training command is asked for.
"""
from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    'simulate': ('selfdepth_ros.sim.cli:main', 'render a synthetic drive with ground truth into a rosbag2'),
    'bag-info': ('selfdepth_ros.bag.cli:main', 'summarise a rosbag2 (topics, counts, cameras), salvage truncated MCAP'),
    'import': ('selfdepth_ros.importers.cli:main', 'write a rosbag2 from KITTI folders, an image folder or a video'),
    'train': ('selfdepth_ros_training.cli:main', 'train depth + motion networks from rosbags with a YAML recipe'),
    'export': ('selfdepth_ros.export:main', 'export a checkpoint to TorchScript or ONNX with a parity check'),
    'run': ('selfdepth_ros.nodes.run:main', 'start the perception node graph without launch_ros'),
    'eval': ('selfdepth_ros.eval.cli:main', 'score a checkpoint (or a recorded output bag) against ground truth'),
    'replay': ('selfdepth_ros.eval.replay:main', 'play a bag through the live node graph and record its outputs'),
    'demo': ('selfdepth_ros.demo:main', 'the end-to-end demo on the embedded synthetic world'),
}


def _usage() -> str:
    lines = ['usage: selfdepth COMMAND [args...]', '', 'commands:']
    lines += [f'  {name:<10} {help_}' for name, (_, help_) in COMMANDS.items()]
    lines += ['', 'run `selfdepth COMMAND --help` for the arguments of one command.']
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f'selfdepth: unknown command {name!r}\n\n{_usage()}', file=sys.stderr)
        return 2
    module_name, func_name = COMMANDS[name][0].split(':')
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            print(f'selfdepth: command {name!r} is not available yet ({module_name} missing)', file=sys.stderr)
            return 2
        raise
    return int(getattr(module, func_name)(rest) or 0)


if __name__ == '__main__':
    sys.exit(main())
