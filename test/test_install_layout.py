"""The tree `colcon build` installs (setup.py run as colcon's ament_python build runs it): `selfdepth` in bin/
(on PATH once install/setup.bash is sourced), the node where `ros2 run`/launch_ros look for it, the launch and
config files in share/selfdepth_ros, the shipped model next to the code."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('colcon')
    build, prefix = tmp / 'build', tmp / 'install'
    build.mkdir()
    proc = subprocess.run(
        [sys.executable, 'setup.py', '-q', 'egg_info', '--egg-base', str(build), 'build', '--build-base',
         str(build / 'build'), 'install', '--prefix', str(prefix), '--record', str(build / 'install.log'),
         '--single-version-externally-managed'],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = next(prefix.glob('lib/python3*/site-packages'))
    return prefix, site


def test_selfdepth_is_on_the_workspace_path(installed):
    prefix, site = installed
    exe = prefix / 'bin' / 'selfdepth'  # colcon's setup.bash prepends <prefix>/bin to PATH
    assert exe.is_file() and os.access(exe, os.X_OK)
    env = {**os.environ, 'PYTHONPATH': str(site), 'PATH': f"{prefix / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(['selfdepth', '--help'], cwd=prefix, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and 'commands:' in proc.stdout, proc.stderr


def test_the_node_is_where_ros2_run_and_launch_look(installed):
    prefix, _ = installed
    node = prefix / 'lib' / 'selfdepth_ros' / 'perception_node'
    assert node.is_file() and os.access(node, os.X_OK)
    first, *body = node.read_text().splitlines()
    assert first == f'#!{sys.executable}'  # the interpreter that built it, like a console script
    assert 'from selfdepth_ros.nodes.perception_node import main' in body


def test_share_and_package_data(installed):
    prefix, site = installed
    share = prefix / 'share' / 'selfdepth_ros'
    for rel in ('package.xml', 'launch/perception.launch.py', 'launch/replay.launch.py', 'launch/camera.launch.py',
                'config/perception.yaml', 'config/fastdds_shm.xml', 'config/selfdepth.rviz'):
        assert (share / rel).is_file(), rel
    assert (prefix / 'share' / 'ament_index' / 'resource_index' / 'packages' / 'selfdepth_ros').is_file()
    assert (site / 'selfdepth_ros' / 'data' / 'selfdepth_small.pt').is_file()  # the default checkpoint


def test_no_generic_top_level_package(installed):
    _, site = installed
    assert not (site / 'training').exists()  # the trainer installs as selfdepth_ros_training
    assert (site / 'selfdepth_ros_training' / 'methods' / 'dynamic_scenes.py').is_file()
