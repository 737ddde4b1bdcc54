"""SE(3) poses as B×4×4 homogeneous matrices: build, invert, compose, relative camera motion.

Naming: ``T_a_b`` maps points from frame b to frame a (``X_a = T_a_b · X_b``); ``T_odom_cam`` is the camera
pose in odom. Hand-written (a few lines each) rather than kornia's ``Se3`` objects so every module passes plain
tensors.
"""
from __future__ import annotations

import torch

from selfdepth_ros.geometry.checks import check_floating, check_same_batch, check_shape

__all__ = ['make_pose', 'invert_pose', 'compose_pose', 'relative_pose']


def make_pose(R: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Homogeneous transform ``[[R, t], [0, 0, 0, 1]]``.

    Args:
        R: B×3×3 rotation.
        t: B×3 translation (metres).

    Returns:
        B×4×4.
    """
    check_shape('R', R, ['B', '3', '3'])
    check_shape('t', t, ['B', '3'])
    check_same_batch(R=R, t=t)
    check_floating('R', R)
    top = torch.cat([R, t.to(R.dtype).unsqueeze(-1)], dim=-1)
    bottom = torch.zeros_like(top[:, :1])
    bottom[:, 0, 3] = 1
    return torch.cat([top, bottom], dim=-2)


def _check_pose(name: str, T: torch.Tensor) -> None:
    check_shape(name, T, ['B', '4', '4'])
    check_floating(name, T)


def invert_pose(T: torch.Tensor) -> torch.Tensor:
    """Inverse of rigid transforms B×4×4: ``[[Rᵀ, −Rᵀ t], [0, 1]]`` (exact, no general matrix inverse)."""
    _check_pose('T', T)
    Rt = T[:, :3, :3].transpose(-1, -2)
    return make_pose(Rt, -(Rt @ T[:, :3, 3:]).squeeze(-1))


def compose_pose(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Composition ``a · b`` of B×4×4 transforms (``T_x_z = compose_pose(T_x_y, T_y_z)``)."""
    _check_pose('a', a)
    _check_pose('b', b)
    check_same_batch(a=a, b=b)
    return a @ b


def relative_pose(T_odom_cam1: torch.Tensor, T_odom_cam2: torch.Tensor) -> torch.Tensor:
    """Camera motion of a frame pair: ``T_cam2_cam1 = inv(T_odom_cam2) · T_odom_cam1`` (B×4×4).

    Its rotation block and translation column are the ``(R, T_ego)`` of the 001 convention:
    ``X2 = R · X1 + T_ego`` (docs/CONVENTIONS.md, "Motion").
    """
    _check_pose('T_odom_cam1', T_odom_cam1)
    _check_pose('T_odom_cam2', T_odom_cam2)
    return compose_pose(invert_pose(T_odom_cam2), T_odom_cam1)
