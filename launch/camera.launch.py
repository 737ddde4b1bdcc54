"""A USB camera example: v4l2_camera -> (optionally image_proc rectify) -> the selfdepth node, and rviz2.

    ros2 launch selfdepth_ros camera.launch.py video_device:=/dev/video0 width:=640 height:=480 \
        camera_info_url:=file:///home/me/.ros/camera_info/usb_cam.yaml rectify:=true rviz:=true

The camera runs in namespace `camera` (its `image_raw` and `camera_info` become /camera/image_raw and
/camera/camera_info, the node's default inputs). The node expects rectified images: with a calibration
(`camera_info_url`) set `rectify:=true`, and image_proc's rectify_node feeds /camera/image_rect instead. Without a
calibration v4l2_camera's CameraInfo has no focal length: the node says so and uses the model's intrinsics.
`sudo apt install ros-$ROS_DISTRO-v4l2-camera ros-$ROS_DISTRO-image-proc ros-$ROS_DISTRO-rviz2` (not
dependencies of this package: an example). The other arguments are perception.launch.py's.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.conditions import IfCondition
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

PACKAGE = 'selfdepth_ros'
CAMERA_NS = 'camera'
PASSED = ('checkpoint', 'device', 'config', 'log_level', 'use_sim_time')
"""perception.launch.py arguments passed through under their own names."""


def _camera(context):
    arg = {name: LaunchConfiguration(name).perform(context) for name in (
        'video_device', 'width', 'height', 'camera_info_url', 'frame_id', 'rectify')}
    size = [int(arg['width']), int(arg['height'])]
    nodes = [Node(package='v4l2_camera', executable='v4l2_camera_node', name='v4l2_camera', namespace=CAMERA_NS,
                  parameters=[{'video_device': arg['video_device'], 'image_size': size, 'output_encoding': 'rgb8',
                               'camera_frame_id': arg['frame_id'], 'camera_info_url': arg['camera_info_url']}],
                  output='screen')]
    if arg['rectify'].strip().lower() in ('true', '1', 'yes'):
        nodes.append(Node(package='image_proc', executable='rectify_node', name='rectify', namespace=CAMERA_NS,
                          remappings=[('image', 'image_raw')], output='screen'))  # -> image_rect
    return nodes


def _perception(context):
    rectify = LaunchConfiguration('rectify').perform(context).strip().lower() in ('true', '1', 'yes')
    image = f"/{CAMERA_NS}/{'image_rect' if rectify else 'image_raw'}"
    share = get_package_share_directory(PACKAGE)
    return [IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'perception.launch.py')),
        launch_arguments=[('image', image), ('camera_info', f'/{CAMERA_NS}/camera_info')]
        + [(name, LaunchConfiguration(name)) for name in PASSED])]


def generate_launch_description():
    share = get_package_share_directory(PACKAGE)
    args = [
        DeclareLaunchArgument('video_device', default_value='/dev/video0', description='V4L2 device'),
        DeclareLaunchArgument('width', default_value='640', description='capture width (pixels)'),
        DeclareLaunchArgument('height', default_value='480', description='capture height (pixels)'),
        DeclareLaunchArgument('camera_info_url', default_value='',
                              description="calibration, e.g. file:///path/camera.yaml ('' = none)"),
        DeclareLaunchArgument('frame_id', default_value='camera_optical_frame',
                              description='optical frame of the images (REP 103: z forward, x right, y down)'),
        DeclareLaunchArgument('rectify', default_value='false',
                              description='run image_proc rectify_node and feed image_rect to the node'),
        DeclareLaunchArgument('rviz', default_value='true', description='start rviz2 with config/selfdepth.rviz'),
        DeclareLaunchArgument('checkpoint', default_value='', description="as perception.launch.py ('' = the YAML's)"),
        DeclareLaunchArgument('device', default_value='', description="as perception.launch.py ('' = the YAML's)"),
        DeclareLaunchArgument('config', default_value=os.path.join(share, 'config', 'perception.yaml'),
                              description='parameter YAML'),
        DeclareLaunchArgument('log_level', default_value='info', description='debug | info | warn | error | fatal'),
        DeclareLaunchArgument('use_sim_time', default_value='false', description='follow /clock'),
    ]
    rviz = Node(package='rviz2', executable='rviz2', name='rviz2', output='screen',
                arguments=['-d', os.path.join(share, 'config', 'selfdepth.rviz')],
                condition=IfCondition(LaunchConfiguration('rviz')))
    return LaunchDescription(args + [OpaqueFunction(function=_camera), OpaqueFunction(function=_perception), rviz])
