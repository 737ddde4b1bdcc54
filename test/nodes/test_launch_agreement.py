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
        'launch_ros.actions', 'launch.conditions', 'launch.event_handlers', 'ament_index_python',
        'ament_index_python.packages')}
    mods['launch'].LaunchDescription = lambda entities: list(entities)
    for name in ('DeclareLaunchArgument', 'SetEnvironmentVariable', 'ExecuteProcess', 'IncludeLaunchDescription',
                 'OpaqueFunction', 'RegisterEventHandler'):
        setattr(mods['launch.actions'], name, type(name, (_Rec,), {}))
    for name in ('IfCondition', 'UnlessCondition'):
        setattr(mods['launch.conditions'], name, type(name, (_Rec,), {}))
    mods['launch.substitutions'].LaunchConfiguration = LaunchConfiguration
    mods['launch.launch_description_sources'].PythonLaunchDescriptionSource = type('Src', (_Rec,), {})
    mods['launch_ros.actions'].Node = type('Node', (_Rec,), {})
    mods['launch_ros.actions'].LifecycleNode = type('LifecycleNode', (_Rec,), {})
    mods['launch.event_handlers'].OnProcessIO = type('OnProcessIO', (_Rec,), {})
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
    assert len(nodes) == 1 and type(nodes[0]).__name__ in ('Node', 'LifecycleNode')
    return dict(nodes[0].kwargs, kind=type(nodes[0]).__name__)


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
    from selfdepth_ros.nodes import executor
    seen = []
    monkeypatch.setattr(executor, 'spin', lambda factory, args, start=None:
                        seen.append((args, os.environ.get('FASTDDS_DEFAULT_PROFILES_FILE'))) or 0)
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
    plays = _plays_when_ready(entities)
    assert all(p.kwargs['cmd'][:3] == ['ros2', 'bag', 'play'] for p in plays)
    by_condition = {type(p.kwargs['condition']).__name__: p.kwargs['cmd'] for p in plays}
    assert '--clock' in by_condition['IfCondition'] and '--clock' not in by_condition['UnlessCondition']


def _plays_when_ready(entities):
    """What replay.launch.py starts on the perception node's ready line (and that it starts it only then)."""
    assert not [e for e in entities if type(e).__name__ == 'ExecuteProcess'], 'the bag must not play at launch'
    handler = next(e for e in entities if type(e).__name__ == 'RegisterEventHandler').args[0]
    assert type(handler).__name__ == 'OnProcessIO' and handler.kwargs.get('target_action') is None
    on_stderr = handler.kwargs['on_stderr']  # rcutils logs to stderr; stdout is watched too
    event = types.SimpleNamespace
    assert on_stderr(event(text=b'[INFO] [1.0] [selfdepth]: scale: RELATIVE ...')) is None
    assert on_stderr(event(text=b'[INFO] [1.5] [ros2bag]: listening on nothing')) is None
    plays = on_stderr(event(text=b'[INFO] [2.0] [front.selfdepth]: listening on /cam/image + /cam/info; model x'))
    assert plays and on_stderr(event(text=b'[INFO] [3.0] [selfdepth]: listening on /a + /b')) is None  # once
    return plays


def test_replay_launch_plays_the_bag_once_the_node_is_ready(monkeypatch):
    plays = _plays_when_ready(_load(monkeypatch, 'replay.launch.py'))
    assert all('--delay' in p.kwargs['cmd'] for p in plays)  # DDS discovery between the node and the player
    node_source = (ROOT / 'selfdepth_ros' / 'nodes' / 'node.py').read_text()
    assert 'get_logger().info(f"listening on {' in node_source  # the ready line the launch file waits for


def test_lifecycle_launch_argument_matches_selfdepth_run_lifecycle(monkeypatch):
    entities = _load(monkeypatch, 'perception.launch.py')
    defaults = _defaults(entities)
    assert defaults['lifecycle'] == defaults['autostart'] == 'false'
    plain = _launched_node(entities)
    assert plain['kind'] == 'Node' and plain['arguments'] == []
    for given, flags in (({'lifecycle': 'true'}, ['--lifecycle']),
                         ({'lifecycle': 'true', 'autostart': 'true'}, ['--lifecycle', '--autostart'])):
        node = _launched_node(entities, **given)
        assert node['kind'] == 'LifecycleNode' and node['arguments'] == flags
        assert set(flags) <= set(run.LIFECYCLE_FLAGS)  # the executable's own flags (perception_node.NODE_FLAGS)
        args, ros_args = run.ros_args_for(flags)
        assert (args.lifecycle, args.autostart) == ('--lifecycle' in flags, '--autostart' in flags)
        assert _node_as_ros_args(node) == _from_ros_args(ros_args)
    with pytest.raises(ValueError, match='autostart'):
        _launched_node(entities, autostart='true')


def test_perception_node_executable_selects_the_lifecycle_variant(monkeypatch):
    from selfdepth_ros.nodes import lifecycle_node, perception_node
    seen = []
    monkeypatch.setattr(perception_node, 'spin', lambda factory, args, start=None: seen.append((args, start)) or 0)
    assert perception_node.main(['perception_node', '--lifecycle', '--autostart', '--ros-args', '-p', 'x:=1']) == 0
    args, start = seen[-1]
    assert start is lifecycle_node.autostart and '--lifecycle' not in args and args[1:4] == ['--ros-args', '-p', 'x:=1']
    assert perception_node.main(['perception_node', '--lifecycle']) == 0 and seen[-1][1] is lifecycle_node.wait_for_manager
    assert perception_node.main(['perception_node']) == 0 and seen[-1][1] is None
    assert perception_node.main(['perception_node', '--autostart']) == 2


def test_run_rejects_malformed_remaps():
    with pytest.raises(SystemExit):
        run.main(['--remap', 'image'])
