"""selfdepth_ros.geometry: pure-torch, batched, differentiable camera geometry (float32 and float64).

Conventions: docs/CONVENTIONS.md (optical frame, pixel centres at integers, the 001 motion convention).
"""
from selfdepth_ros.geometry.camera import (backproject, crop_intrinsics, intrinsics_matrix, pixel_grid, project,
                                           scale_intrinsics)
from selfdepth_ros.geometry.checks import check_floating, check_same_batch, check_shape
from selfdepth_ros.geometry.pose import compose_pose, invert_pose, make_pose, relative_pose
from selfdepth_ros.geometry.rotation import (axis_angle_to_matrix, euler_to_matrix, matrix_to_axis_angle,
                                             matrix_to_euler)
from selfdepth_ros.geometry.warp import WarpResult, inverse_warp, resample, warp_coordinates

__all__ = [
    'intrinsics_matrix', 'scale_intrinsics', 'crop_intrinsics', 'pixel_grid', 'backproject', 'project',
    'euler_to_matrix', 'matrix_to_euler', 'axis_angle_to_matrix', 'matrix_to_axis_angle',
    'make_pose', 'invert_pose', 'compose_pose', 'relative_pose',
    'warp_coordinates', 'resample', 'inverse_warp', 'WarpResult',
    'check_shape', 'check_same_batch', 'check_floating',
]
