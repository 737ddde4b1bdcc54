"""The launch files and `selfdepth run` agree on executable, node name, parameters, remaps, log level and DDS
profile (none unless asked for), for the default arguments and for set ones.

launch/launch_ros are not installable here, so the launch files are imported with small recording stubs of
those modules injected into ``sys.modules``; the launch files themselves are the real, unmodified ones.
"""
import ast
import importlib.util
import os
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
    def perform(self, context):
        return context[self.args[0]]


def _stub_modules(monkeypatch):
    mods = {name: types.ModuleType(name) for name in (
        'launch', 'launch.actions', 'launch.substitutions', 'launch.launch_description_sources', 'launch_ros',
        'launch_ros.actions', 'launch.conditions', 'ament_index_python', 'ament_index_python.packages')}
    mods['launch'].LaunchDescription = lambda entities: list(entities)
    for name in ('DeclareLaunchArgument', 'SetEnvironmentVariable', 'ExecuteProcess', 'IncludeLaunchDescription',
                 'OpaqueFunction'):
        setattr(mods['launch.actions'], name, type(name, (_Rec,), {}))
    for name in ('IfCondition', 'UnlessCondition'):
        setattr(mods['launch.conditions'], name, type(name, (_Rec,), {}))
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


def _defaults(entities):
    return {e.args[0]: e.kwargs.get('default_value') for e in entities if type(e).__name__ == 'DeclareLaunchArgument'}


def _launched_node(entities, **given):
    """The Node the launch file's OpaqueFunction builds for the default arguments updated with ``given``."""
    context = {**_defaults(entities), **given}
    opaque = [e for e in entities if type(e).__name__ == 'OpaqueFunction']
    assert len(opaque) == 1
    nodes = opaque[0].kwargs['function'](context)
    assert len(nodes) == 1 and type(nodes[0]).__name__ == 'Node'
    return nodes[0].kwargs


def _from_ros_args(ros_args):
    """``--ros-args`` → (params file, {param: value}, {from: to} remaps incl. __node/__ns, log level)."""
    params, remaps, log_level, params_file = {}, {}, None, None
    i = 1
    while i < len(ros_args):
        flag, value = ros_args[i], ros_args[i + 1]
        if flag == '-p':
            key, _, text = value.partition(':=')
            params[key] = yaml.safe_load(text)
        elif flag == '-r':
            key, _, to = value.partition(':=')
            remaps.setdefault(key, to)  # rcl: the first matching rule wins
        elif flag == '--log-level':
            log_level = value
        elif flag == '--params-file':
            params_file = value
        i += 2
    return params_file, params, remaps, log_level


def _node_as_ros_args(node):
    """The launch Node's settings in the same form as :func:`_from_ros_args`."""
    config, overrides = node['parameters']
    remaps = {'__node': node['name'], **dict(node['remappings'])}
    if node['namespace']:
        remaps['__ns'] = '/' + node['namespace'].strip('/')
    args = node['ros_arguments']
    return config, overrides, remaps, args[args.index('--log-level') + 1]


def test_perception_launch_matches_selfdepth_run(monkeypatch):
    entities = _load(monkeypatch, 'perception.launch.py')
    defaults = _defaults(entities)
    assert {'image', 'camera_info', 'config', 'namespace', 'device', 'checkpoint', 'use_sim_time', 'log_level',
            'fastdds_profile'} <= set(defaults)
    node = _launched_node(entities)
    assert (node['package'], node['executable'], node['name']) == (run.PACKAGE, run.EXECUTABLE, run.NODE_NAME)
    _, ros_args = run.ros_args_for([])
    assert _node_as_ros_args(node) == _from_ros_args(ros_args)
    config, overrides = node['parameters']
    assert config == str(ROOT / 'config' / 'perception.yaml')
    # Empty checkpoint/device arguments leave the YAML's values alone (a user YAML's device is respected).
    assert overrides == {'use_sim_time': False}
    section = yaml.safe_load(Path(config).read_text())['/**/selfdepth']['ros__parameters']
    assert set(section) == {s.name for s in SPECS}, 'config/perception.yaml must list every declared parameter'
    assert {k: v for k, v in section.items()} == {s.name: s.default for s in SPECS}
    assert section['checkpoint'] == 'shipped', 'the default YAML must load the shipped model'


def test_set_launch_arguments_match_the_same_selfdepth_run_flags(monkeypatch):
    entities = _load(monkeypatch, 'perception.launch.py')
    node = _launched_node(entities, image='/cam/image', camera_info='/cam/info', namespace='front',
                          checkpoint='/models/a.pt', device='cpu', use_sim_time='true', log_level='debug')
    _, ros_args = run.ros_args_for(['--remap', 'image:=/cam/image', '--remap', 'camera_info:=/cam/info',
                                    '--namespace', 'front', '--checkpoint', '/models/a.pt', '--use-sim-time',
                                    '--log-level', 'debug', '--ros-args', '-p', 'device:=cpu'])
    assert _node_as_ros_args(node) == _from_ros_args(ros_args)
    assert node['parameters'][1] == {'checkpoint': '/models/a.pt', 'device': 'cpu', 'use_sim_time': True}


def test_no_dds_profile_is_forced(monkeypatch):
    entities = _load(monkeypatch, 'perception.launch.py')
    assert not [e for e in entities if type(e).__name__ == 'SetEnvironmentVariable'], \
        'a launch-wide FASTDDS_DEFAULT_PROFILES_FILE leaks into every later node of an including launch file'
    assert _launched_node(entities).get('additional_env') is None
    profile = str(ROOT / 'config' / 'fastdds_shm.xml')
    assert _launched_node(entities, fastdds_profile=profile)['additional_env'] == \
        {'FASTDDS_DEFAULT_PROFILES_FILE': profile}  # opt-in, for the node's own process only


def test_selfdepth_run_sets_no_dds_profile_unless_asked(monkeypatch, capsys):
    from selfdepth_ros.nodes import perception_node
    seen = []
    monkeypatch.setattr(perception_node, 'spin',
                        lambda factory, args: seen.append((args, os.environ.get('FASTDDS_DEFAULT_PROFILES_FILE'))) or 0)
    monkeypatch.delenv('FASTDDS_DEFAULT_PROFILES_FILE', raising=False)
    assert run.main(['--ros-args', '-p', 'device:=cpu']) == 0
    assert seen[-1][1] is None
    assert seen[-1][0][seen[-1][0].index('device:=cpu') - 1] == '-p'  # --ros-args reach rclpy
    profile = ROOT / 'config' / 'fastdds_shm.xml'
    assert run.main(['--fastdds-profile', str(profile)]) == 0
    assert seen[-1][1] == str(profile)
    with pytest.raises(SystemExit):
        run.main(['--fastdds-profile', str(ROOT / 'no_such.xml')])


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
    assert {'image', 'camera_info', 'config', 'device', 'checkpoint', 'use_sim_time', 'log_level'} <= set(passed)
    assert all(v.args[0] == k for k, v in passed.items())  # each passed under its own name
    defaults = _defaults(entities)
    assert defaults['use_sim_time'] == 'true' and defaults['checkpoint'] == defaults['device'] == ''
    plays = [e for e in entities if type(e).__name__ == 'ExecuteProcess']
    assert all(p.kwargs['cmd'][:3] == ['ros2', 'bag', 'play'] for p in plays)
    by_condition = {type(p.kwargs['condition']).__name__: p.kwargs['cmd'] for p in plays}
    assert '--clock' in by_condition['IfCondition'] and '--clock' not in by_condition['UnlessCondition']


def test_run_rejects_malformed_remaps():
    with pytest.raises(SystemExit):
        run.main(['--remap', 'image'])
