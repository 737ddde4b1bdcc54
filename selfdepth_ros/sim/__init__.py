"""selfdepth_ros.sim: the synthetic world (procedural streets, exact ground truth, rosbag2 recording).

    from selfdepth_ros.sim import SimConfig, render_drive, iter_frames
    drive = render_drive(SimConfig(frames=20, seed=1))   # Drive: rgb, depth, pose, motion, semantic, moving_mask
"""
from selfdepth_ros.sim.config import SimConfig
from selfdepth_ros.sim.drive import Drive, Frame, iter_frames, render_drive
from selfdepth_ros.sim.scene import LABEL_NAMES

__all__ = ['SimConfig', 'Drive', 'Frame', 'iter_frames', 'render_drive', 'LABEL_NAMES']
