"""Self-supervised losses, one module per concept, equation numbers in docstrings.

001 (dynamic scenes): photometric eq. 7, smoothness eq. 5, motion regularisers eqs. 2-4, cycle eq. 6, combined in
``dynamic_scenes_loss``. 004 / monodepth2 baseline: ``automasked_min_reprojection`` (eq. 10) and
``monodepth_loss``. Ours: ``depth_scale_prior`` (a weak prior against the depth scale running away).
"""
from selfdepth_ros_training.losses.automask import automasked_min_reprojection, bidirectional_automask_loss, monodepth_loss
from selfdepth_ros_training.losses.cycle import (MotionCycleConsistency, motion_cycle_consistency, rotation_cycle_loss,
                                   translation_cycle_loss)
from selfdepth_ros_training.losses.dynamic_scenes import DEFAULT_WEIGHTS, DynamicScenesLoss, dynamic_scenes_loss, swap_pair_order
from selfdepth_ros_training.losses.motion_regularizers import (MotionFieldRegularization, group_smoothness,
                                                 motion_field_regularization, normalize_motion_field, sqrt_sparsity)
from selfdepth_ros_training.losses.photometric import (OcclusionAwarePhotometricLoss, depth_proximity_weight,
                                         occlusion_aware_photometric_loss, occlusion_mask, reprojection_error,
                                         weighted_ssim)
from selfdepth_ros_training.losses.scale_prior import depth_scale_prior
from selfdepth_ros_training.losses.smoothness import EdgeAwareSmoothness, edge_aware_smoothness

__all__ = [
    'weighted_ssim', 'occlusion_mask', 'depth_proximity_weight', 'occlusion_aware_photometric_loss',
    'reprojection_error', 'OcclusionAwarePhotometricLoss',
    'edge_aware_smoothness', 'EdgeAwareSmoothness',
    'normalize_motion_field', 'group_smoothness', 'sqrt_sparsity', 'motion_field_regularization',
    'MotionFieldRegularization',
    'rotation_cycle_loss', 'translation_cycle_loss', 'motion_cycle_consistency', 'MotionCycleConsistency',
    'automasked_min_reprojection', 'bidirectional_automask_loss', 'monodepth_loss',
    'DEFAULT_WEIGHTS', 'dynamic_scenes_loss', 'DynamicScenesLoss', 'swap_pair_order', 'depth_scale_prior',
]
