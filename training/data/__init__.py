"""Datasets of frame pairs/triplets read from rosbag2 files."""
