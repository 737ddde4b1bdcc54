"""rosbag2 reading and writing through ``rosbags`` (MCAP and sqlite3); never imports rclpy.

- :class:`BagWriter` (``writer``): write images, CameraInfo, Odometry, CompressedImage or any message.
- :class:`BagReader` (``reader``): topics, deserialised messages and typed samples (``samples``) of any bag,
  salvaging a truncated MCAP (``salvage``) with a warning.
- :class:`FrameIndex` (``index``): image frames paired by stamp with CameraInfo and ground truth.
- :class:`BagError`: every bag problem, naming the bag, the topic and the reason.
"""
from selfdepth_ros.bag.errors import BagError

__all__ = ['BagError']
