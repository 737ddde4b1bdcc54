"""ament_python packaging for selfdepth_ros (works with colcon and with plain pip)."""
from glob import glob

from setuptools import find_packages, setup

package_name = 'selfdepth_ros'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(include=['selfdepth_ros', 'selfdepth_ros.*', 'training', 'training.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*.yaml') + glob('config/*.xml')),
        ('share/' + package_name + '/config/train', glob('config/train/*.yaml')),
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
