"""selfdepth_ros: self-supervised monocular depth, odometry and motion fields for ROS 2.

The runtime (this package) never imports ``training``.
"""
__version__ = '0.1.0'
