"""Record a synthetic drive into a rosbag2 (MCAP or sqlite3) with the topics of docs/CONVENTIONS.md.

Every message of frame t carries the same ``header.stamp`` (= the bag receive time); images use the
``camera_optical_frame`` frame id, the odometry ``odom`` → ``camera_optical_frame``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from selfdepth_ros.sim.config import SimConfig
from selfdepth_ros.sim.drive import Frame, iter_frames
from selfdepth_ros.sim.scene import make_scene

CAMERA_FRAME = 'camera_optical_frame'
ODOM_FRAME = 'odom'
STORAGES = ('mcap', 'sqlite3')

# topic -> (message type, encoding or None)
TOPICS = {
    '/camera/image_raw': ('sensor_msgs/msg/Image', 'rgb8'),
    '/camera/camera_info': ('sensor_msgs/msg/CameraInfo', None),
    '/gt/depth': ('sensor_msgs/msg/Image', '32FC1'),
    '/gt/odom': ('nav_msgs/msg/Odometry', None),
    '/gt/motion': ('sensor_msgs/msg/Image', '32FC3'),
    '/gt/semantic': ('sensor_msgs/msg/Image', 'mono8'),
    '/gt/moving_mask': ('sensor_msgs/msg/Image', 'mono8'),
}


def camera_twist(pose: np.ndarray, pose_next: np.ndarray, dt: float) -> np.ndarray:
    """Twist (vx, vy, vz, wx, wy, wz) of the camera over [t, t+dt] in its own frame at t (m/s, rad/s), the
    finite difference of ``T_cam_t ← cam_t+dt`` (nav_msgs/Odometry gives the twist in ``child_frame_id``)."""
    rel = np.linalg.inv(pose) @ pose_next
    return np.concatenate([rel[:3, 3], Rotation.from_matrix(rel[:3, :3]).as_rotvec()]) / dt


def check_output_path(path: str | Path) -> Path:
    """The bag directory to create: must not exist, its parent must."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f'out: {path} exists already; choose a new path (bags are never overwritten)')
    if not path.parent.is_dir():
        raise FileNotFoundError(f'out: parent directory {path.parent} does not exist')
    return path


def write_frame(writer, frame: Frame, twist: np.ndarray | None = None) -> None:
    """Write the seven messages of one frame with ``BagWriter`` ``writer``."""
    stamp, K = frame.stamp_ns, frame.K
    h, w = frame.depth.shape
    writer.write_image('/camera/image_raw', frame.rgb, 'rgb8', stamp, CAMERA_FRAME)
    writer.write_camera_info('/camera/camera_info', K, w, h, stamp, CAMERA_FRAME)
    writer.write_image('/gt/depth', frame.depth, '32FC1', stamp, CAMERA_FRAME)
    writer.write_odometry('/gt/odom', frame.pose, stamp, ODOM_FRAME, CAMERA_FRAME, twist=twist)
    writer.write_image('/gt/motion', frame.motion, '32FC3', stamp, CAMERA_FRAME)
    writer.write_image('/gt/semantic', frame.semantic, 'mono8', stamp, CAMERA_FRAME)
    writer.write_image('/gt/moving_mask', frame.moving_mask, 'mono8', stamp, CAMERA_FRAME)


def record_drive(cfg: SimConfig, out: str | Path, storage: str = 'mcap', progress: bool = False) -> dict[str, int]:
    """Render the drive of ``cfg`` and write it as a rosbag2 directory ``out`` (must not exist).

    Returns the number of messages written per topic.
    """
    from selfdepth_ros.bag.writer import BagWriter

    if storage not in STORAGES:
        raise ValueError(f'storage must be one of {STORAGES}, got {storage!r}')
    out = check_output_path(out)
    scene = make_scene(cfg)
    frames = iter_frames(cfg, scene=scene)
    if progress:
        from tqdm import tqdm
        frames = tqdm(frames, total=cfg.frames, desc=f'recording {out.name}', unit='frame')
    with BagWriter(out, storage=storage) as writer:
        for frame in frames:
            # The twist of frame t uses the pose at t+1, which the path defines beyond the last frame too.
            twist = camera_twist(frame.pose, scene.ego.camera_pose((frame.index + 1) / cfg.fps), cfg.dt)
            write_frame(writer, frame, twist)
        return dict(writer.counts)

