"""ament_python packaging for selfdepth_ros (works with colcon and with plain pip).

Console scripts go to bin/ (on PATH once a colcon workspace is sourced: `selfdepth ...`); the node is also
installed as lib/selfdepth_ros/perception_node, where `ros2 run` and launch_ros look for executables
(setup.cfg therefore does not redirect the scripts). test/test_install_layout.py checks the installed tree.
"""
import os
import sys
from glob import glob

from setuptools import find_packages, setup

package_name = 'selfdepth_ros'


def node_launcher() -> str:
    """``scripts/perception_node`` with this interpreter in its ``#!`` line (as pip/colcon write console scripts),
    under ``build/`` for data_files: a venv-built workspace's node then runs with the venv's Python."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, 'scripts', 'perception_node')) as f:
        body = f.read().split('\n', 1)[1]
    out = os.path.join('build', 'selfdepth_ros_lib', 'perception_node')
    os.makedirs(os.path.join(here, os.path.dirname(out)), exist_ok=True)
    text = f'#!{sys.executable}\n{body}'
    target = os.path.join(here, out)
    with open(target, 'w') as f:
        f.write(text)
    os.chmod(target, 0o755)
    return out


setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(include=['selfdepth_ros', 'selfdepth_ros.*', 'selfdepth_ros_training', 'selfdepth_ros_training.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*.yaml') + glob('config/*.xml') + glob('config/*.rviz')),
        ('share/' + package_name + '/config/train', glob('config/train/*.yaml')),
        ('share/' + package_name + '/rviz', glob('rviz/*.rviz')),
        ('lib/' + package_name, [node_launcher()]),
    ],
    package_data={'selfdepth_ros': ['data/*.pt', 'data/*.json']},
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='selfdepth_ros maintainers',
    maintainer_email='selfdepth@example.com',
    description='Self-supervised monocular depth, odometry and motion fields for ROS 2.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'selfdepth = selfdepth_ros.cli:main',
            'perception_node = selfdepth_ros.nodes.perception_node:main',
        ],
    },
)
