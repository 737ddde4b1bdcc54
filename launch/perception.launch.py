"""Start the selfdepth perception node (the same graph `selfdepth run` starts without launch_ros).

    ros2 launch selfdepth_ros perception.launch.py image:=/cam/image_raw camera_info:=/cam/camera_info \
        namespace:=front checkpoint:=/path/to/model.pt device:=cuda config:=/path/to/perception.yaml

Arguments left empty ('', the default for `checkpoint` and `device`) take the value of the parameter YAML
(`config`), so a user YAML is respected; the shipped YAML loads the shipped model (`checkpoint: shipped`).
No DDS profile is set unless `fastdds_profile:=FILE` is given, and then only for this node's process
(e.g. `fastdds_profile:=$(ros2 pkg prefix selfdepth_ros)/share/selfdepth_ros/config/fastdds_shm.xml` for
large images between processes on one host; it restricts UDP to 127.0.0.1).
`lifecycle:=true` starts the managed (lifecycle) node instead: unconfigured until `ros2 lifecycle set
/selfdepth configure` / `activate` or a lifecycle manager drives it, or configured and activated at start with
`autostart:=true` (as `selfdepth run --lifecycle [--autostart]`).
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

PACKAGE = 'selfdepth_ros'
FROM_YAML = ('checkpoint', 'device')
"""Launch arguments that become parameter overrides only when non-empty (else the YAML's value stays)."""


def _true(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value not in ('true', 'false', '1', '0', 'yes', 'no'):
        raise ValueError(f'launch argument {name}: expected true or false, got {text!r}')
    return value in ('true', '1', 'yes')


def _node(context):
    arg = {name: LaunchConfiguration(name).perform(context) for name in (
        'image', 'camera_info', 'config', 'namespace', 'checkpoint', 'device', 'use_sim_time', 'log_level',
        'fastdds_profile', 'lifecycle', 'autostart')}
    overrides = {name: arg[name] for name in FROM_YAML if arg[name]}
    overrides['use_sim_time'] = _true(arg['use_sim_time'], 'use_sim_time')
    env = {'FASTDDS_DEFAULT_PROFILES_FILE': arg['fastdds_profile']} if arg['fastdds_profile'] else None
    lifecycle, autostart = _true(arg['lifecycle'], 'lifecycle'), _true(arg['autostart'], 'autostart')
    if autostart and not lifecycle:
        raise ValueError('launch argument autostart applies to lifecycle:=true only (the plain node always starts)')
    kind = LifecycleNode if lifecycle else Node  # the executable's own flags: selfdepth_ros.nodes.run.LIFECYCLE_FLAGS
    return [kind(
        package=PACKAGE,
        executable='perception_node',
        name='selfdepth',
        namespace=arg['namespace'],
        arguments=(['--lifecycle'] + (['--autostart'] if autostart else [])) if lifecycle else [],
        parameters=[arg['config'], overrides],
        remappings=[('image', arg['image']), ('camera_info', arg['camera_info'])],
        ros_arguments=['--log-level', arg['log_level']],
        additional_env=env,  # this process only: nothing leaks into the rest of an including launch file
        output='screen',
    )]


def generate_launch_description():
    config_dir = os.path.join(get_package_share_directory(PACKAGE), 'config')
    args = [
        DeclareLaunchArgument('image', default_value='/camera/image_raw', description='input image topic'),
        DeclareLaunchArgument('camera_info', default_value='/camera/camera_info', description='its CameraInfo topic'),
        DeclareLaunchArgument('config', default_value=os.path.join(config_dir, 'perception.yaml'),
                              description='parameter YAML'),
        DeclareLaunchArgument('namespace', default_value='', description='node namespace'),
        DeclareLaunchArgument('checkpoint', default_value='',
                              description="weights (.pt) or 'shipped'; '' = the YAML's checkpoint (the shipped "
                                          "model in the default YAML; checkpoint: '' there = untrained)"),
        DeclareLaunchArgument('device', default_value='', description="auto | cpu | cuda[:N]; '' = the YAML's"),
        DeclareLaunchArgument('use_sim_time', default_value='false', description='follow /clock (bag replay)'),
        DeclareLaunchArgument('log_level', default_value='info', description='debug | info | warn | error | fatal'),
        DeclareLaunchArgument('lifecycle', default_value='false',
                              description='the managed (lifecycle) node: configure loads the model, activate '
                                          'subscribes; driven by `ros2 lifecycle set` or a manager'),
        DeclareLaunchArgument('autostart', default_value='false',
                              description='with lifecycle:=true: configure and activate at start'),
        DeclareLaunchArgument('fastdds_profile', default_value='',
                              description="Fast DDS XML for this node only (e.g. config/fastdds_shm.xml: 16 MB "
                                          "shared memory for large images, loopback UDP only); '' = none"),
    ]
    return LaunchDescription(args + [OpaqueFunction(function=_node)])
