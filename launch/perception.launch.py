"""Start the selfdepth perception node (the same graph `selfdepth run` starts without launch_ros).

    ros2 launch selfdepth_ros perception.launch.py image:=/cam/image_raw camera_info:=/cam/camera_info \
        namespace:=front device:=cuda config:=/path/to/perception.yaml
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

PACKAGE = 'selfdepth_ros'


def generate_launch_description():
    config_dir = os.path.join(get_package_share_directory(PACKAGE), 'config')
    args = [
        DeclareLaunchArgument('image', default_value='/camera/image_raw', description='input image topic'),
        DeclareLaunchArgument('camera_info', default_value='/camera/camera_info', description='its CameraInfo topic'),
        DeclareLaunchArgument('config', default_value=os.path.join(config_dir, 'perception.yaml'),
                              description='parameter YAML'),
        DeclareLaunchArgument('namespace', default_value='', description='node namespace'),
        DeclareLaunchArgument('device', default_value='auto', description='auto | cpu | cuda[:N]'),
        DeclareLaunchArgument('fastdds_profile', default_value=os.path.join(config_dir, 'fastdds_shm.xml'),
                              description='Fast DDS XML (16 MB shared memory for large images)'),
    ]
    node = Node(
        package=PACKAGE,
        executable='perception_node',
        name='selfdepth',
        namespace=LaunchConfiguration('namespace'),
        parameters=[LaunchConfiguration('config'), {'device': LaunchConfiguration('device')}],
        remappings=[('image', LaunchConfiguration('image')), ('camera_info', LaunchConfiguration('camera_info'))],
        output='screen',
    )
    return LaunchDescription(args + [
        SetEnvironmentVariable('FASTDDS_DEFAULT_PROFILES_FILE', LaunchConfiguration('fastdds_profile')),
        node,
    ])
