"""The launch files and `selfdepth run` agree on executable, node name, parameters, remaps and DDS profile.

launch/launch_ros are not installable here, so the launch files are imported with small recording stubs of
those modules injected into ``sys.modules``; the launch files themselves are the real, unmodified ones.
"""
import ast
import importlib.util
import sys
import types
from pathlib import Path

import pytest
import yaml

from selfdepth_ros.nodes import run
from selfdepth_ros.nodes.params import SPECS

ROOT = Path(__file__).resolve().parents[2]


class _Rec:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class LaunchConfiguration(_Rec):
    pass


def _stub_modules(monkeypatch):
    mods = {name: types.ModuleType(name) for name in (
        'launch', 'launch.actions', 'launch.substitutions', 'launch.launch_description_sources', 'launch_ros',
        'launch_ros.actions', 'ament_index_python', 'ament_index_python.packages')}
    mods['launch'].LaunchDescription = lambda entities: list(entities)
    for name in ('DeclareLaunchArgument', 'SetEnvironmentVariable', 'ExecuteProcess', 'IncludeLaunchDescription'):
        setattr(mods['launch.actions'], name, type(name, (_Rec,), {}))
    mods['launch.substitutions'].LaunchConfiguration = LaunchConfiguration
    mods['launch.launch_description_sources'].PythonLaunchDescriptionSource = type('Src', (_Rec,), {})
    mods['launch_ros.actions'].Node = type('Node', (_Rec,), {})
    mods['ament_index_python.packages'].get_package_share_directory = lambda pkg: str(ROOT)  # share == repo
    for name, mod in mods.items():
        monkeypatch.setitem(sys.modules, name, mod)


def _load(monkeypatch, name):
    _stub_modules(monkeypatch)
    spec = importlib.util.spec_from_file_location(name.replace('.', '_'), ROOT / 'launch' / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description()


def _resolve(value, defaults):
    if isinstance(value, LaunchConfiguration):
        return defaults[value.args[0]]
    if isinstance(value, dict):
        return {k: _resolve(v, defaults) for k, v in value.items()}
    return value


def test_perception_launch_matches_selfdepth_run(monkeypatch):
    entities = _load(monkeypatch, 'perception.launch.py')
    defaults = {e.args[0]: e.kwargs.get('default_value') for e in entities if type(e).__name__ == 'DeclareLaunchArgument'}
    assert {'image', 'camera_info', 'config', 'namespace', 'device'} <= set(defaults)
    node = next(e for e in entities if type(e).__name__ == 'Node').kwargs
    assert (node['package'], node['executable'], node['name']) == (run.PACKAGE, run.EXECUTABLE, run.NODE_NAME)
    remaps = {src: _resolve(dst, defaults) for src, dst in node['remappings']}
    config, overrides = (_resolve(p, defaults) for p in node['parameters'])
    ros_args = run.build_ros_args(run.config_dir() / 'perception.yaml')
    assert ros_args[ros_args.index('--params-file') + 1] == config == str(ROOT / 'config' / 'perception.yaml')
    rules = [ros_args[i + 1] for i, a in enumerate(ros_args) if a == '-r']
    assert dict(r.split(':=') for r in rules if not r.startswith('__')) == remaps
    assert f'__node:={run.NODE_NAME}' in rules
    env = next(e for e in entities if type(e).__name__ == 'SetEnvironmentVariable')
    assert env.args[0] == 'FASTDDS_DEFAULT_PROFILES_FILE'
    assert _resolve(env.args[1], defaults) == str(run.config_dir() / 'fastdds_shm.xml')
    # The launch-argument override (device) equals the YAML's value by default, so both start the same node.
    section = yaml.safe_load(Path(config).read_text())['/**/selfdepth']['ros__parameters']
    assert overrides == {'device': section['device']}
    assert set(section) == {s.name for s in SPECS}, 'config/perception.yaml must list every declared parameter'
    assert {k: v for k, v in section.items()} == {s.name: s.default for s in SPECS}


def test_setup_entry_point_is_the_node_that_run_starts():
    tree = ast.parse((ROOT / 'setup.py').read_text())
    scripts = [ast.literal_eval(n) for n in ast.walk(tree) if isinstance(n, ast.List)
               and any(isinstance(e, ast.Constant) and 'perception_node' in str(e.value) for e in n.elts)][0]
    assert f'{run.EXECUTABLE} = selfdepth_ros.nodes.perception_node:main' in scripts


def test_replay_launch_includes_perception_with_the_same_arguments(monkeypatch):
    entities = _load(monkeypatch, 'replay.launch.py')
    include = next(e for e in entities if type(e).__name__ == 'IncludeLaunchDescription')
    assert include.args[0].args[0].endswith('perception.launch.py')
    passed = dict(include.kwargs['launch_arguments'])
    assert {'image', 'camera_info', 'config', 'device'} <= set(passed)
    play = next(e for e in entities if type(e).__name__ == 'ExecuteProcess').kwargs['cmd']
    assert play[:3] == ['ros2', 'bag', 'play']


def test_run_rejects_malformed_remaps():
    with pytest.raises(SystemExit):
        run.main(['--remap', 'image'])
