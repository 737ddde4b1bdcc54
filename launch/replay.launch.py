"""Play a recorded bag (e.g. from `selfdepth simulate`) through the perception node, on the bag's clock.

    ros2 launch selfdepth_ros replay.launch.py bag:=/path/to/drive rate:=1.0
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration

PACKAGE = 'selfdepth_ros'


def generate_launch_description():
    share = get_package_share_directory(PACKAGE)
    args = [
        DeclareLaunchArgument('bag', description='rosbag2 directory or file to play'),
        DeclareLaunchArgument('rate', default_value='1.0', description='playback rate'),
        DeclareLaunchArgument('image', default_value='/camera/image_raw'),
        DeclareLaunchArgument('camera_info', default_value='/camera/camera_info'),
        DeclareLaunchArgument('config', default_value=os.path.join(share, 'config', 'perception.yaml')),
        DeclareLaunchArgument('device', default_value='auto'),
    ]
    perception = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'perception.launch.py')),
        launch_arguments={'image': LaunchConfiguration('image'), 'camera_info': LaunchConfiguration('camera_info'),
                          'config': LaunchConfiguration('config'), 'device': LaunchConfiguration('device')}.items(),
    )
    play = ExecuteProcess(cmd=['ros2', 'bag', 'play', LaunchConfiguration('bag'), '--rate', LaunchConfiguration('rate')],
                          output='screen')
    return LaunchDescription(args + [perception, play])
