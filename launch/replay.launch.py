"""Play a recorded bag (e.g. from `selfdepth simulate`) through the perception node, on the bag's clock.

    ros2 launch selfdepth_ros replay.launch.py bag:=/path/to/drive rate:=1.0 checkpoint:=/path/to/model.pt

`ros2 bag play --clock` publishes the bag's time on /clock and the node runs with `use_sim_time` (both follow the
`use_sim_time` argument, default true). `checkpoint`, `device`, `config`, `log_level` and `fastdds_profile` are
passed to perception.launch.py unchanged ('' = the YAML's value).

The bag starts only once the node is ready: loading a model takes seconds, and frames played before the node
subscribes are lost (the first of them would also set odometry's origin). The node logs `listening on <image> +
<camera_info>` once its inputs are subscribed (`selfdepth_ros/nodes/node.py`); that line starts `ros2 bag play`,
with `--delay play_delay` (default 1 s) for DDS discovery between the two processes. A node that never gets
ready (a refused checkpoint exits with one line) never starts the player.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, IncludeLaunchDescription, RegisterEventHandler
from launch.conditions import IfCondition, UnlessCondition
from launch.event_handlers import OnProcessIO
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration

PACKAGE = 'selfdepth_ros'
READY = ']: listening on '
"""What the perception node logs (after its logger name) once its inputs are subscribed."""


def _start_when_ready(plays):
    """An ``OnProcessIO`` callback: ``plays`` the first time any process writes the node's ready line."""
    started = []

    def on_output(event):
        text = event.text.decode(errors='replace') if isinstance(event.text, bytes) else str(event.text)
        if READY in text and 'selfdepth' in text and not started:
            started.append(True)
            return plays
        return None
    return on_output


def generate_launch_description():
    share = get_package_share_directory(PACKAGE)
    args = [
        DeclareLaunchArgument('bag', description='rosbag2 directory or file to play'),
        DeclareLaunchArgument('rate', default_value='1.0', description='playback rate'),
        DeclareLaunchArgument('play_delay', default_value='1.0',
                              description='s between the node being ready and the first message (DDS discovery)'),
        DeclareLaunchArgument('image', default_value='/camera/image_raw'),
        DeclareLaunchArgument('camera_info', default_value='/camera/camera_info'),
        DeclareLaunchArgument('config', default_value=os.path.join(share, 'config', 'perception.yaml')),
        DeclareLaunchArgument('checkpoint', default_value='', description="weights (.pt); '' = the YAML's"),
        DeclareLaunchArgument('device', default_value='', description="auto | cpu | cuda[:N]; '' = the YAML's"),
        DeclareLaunchArgument('use_sim_time', default_value='true', description="the node follows the bag's /clock"),
        DeclareLaunchArgument('log_level', default_value='info'),
        DeclareLaunchArgument('fastdds_profile', default_value='', description="node's Fast DDS XML; '' = none"),
    ]
    passed = ('image', 'camera_info', 'config', 'checkpoint', 'device', 'use_sim_time', 'log_level', 'fastdds_profile')
    perception = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'perception.launch.py')),
        launch_arguments={name: LaunchConfiguration(name) for name in passed}.items(),
    )
    play_cmd = ['ros2', 'bag', 'play', LaunchConfiguration('bag'), '--rate', LaunchConfiguration('rate'),
                '--delay', LaunchConfiguration('play_delay')]
    sim_time = LaunchConfiguration('use_sim_time')
    play = ExecuteProcess(cmd=play_cmd + ['--clock'], output='screen', condition=IfCondition(sim_time))
    play_wall = ExecuteProcess(cmd=play_cmd, output='screen', condition=UnlessCondition(sim_time))
    on_output = _start_when_ready([play, play_wall])
    when_ready = RegisterEventHandler(OnProcessIO(on_stdout=on_output, on_stderr=on_output))
    return LaunchDescription(args + [perception, when_ready])
