"""Shared pytest set-up: DDS stays on loopback and each run gets its own ROS domain."""
import os
import random

# Before anything imports rclpy: keep discovery on this machine, one domain per test run.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(random.Random(os.getpid()).randint(1, 100)))
