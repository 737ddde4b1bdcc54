"""Rotation parametrisations: the 001 Euler angles and axis-angle, to 3×3 matrices and back.

Euler convention (docs/CONVENTIONS.md, the 001 reference's ``transform_utils.matrix_from_angles``):
``R(rx, ry, rz) = Rx(rx) · Ry(ry) · Rz(rz)`` acting on column vectors, angles in radians.
Axis-angle goes through kornia (well tested, handles the small-angle and π cases).
Torch, not scipy's ``Rotation`` (which every numpy conversion in the package uses): the motion net's angles go
through :func:`euler_to_matrix` inside the training losses, so it must be differentiable and batched on the
device; ``test/geometry/test_rotation_scipy.py`` holds these to scipy's conventions.
"""
from __future__ import annotations

import torch
from kornia.geometry.conversions import axis_angle_to_rotation_matrix, rotation_matrix_to_axis_angle

from selfdepth_ros.geometry.checks import check_floating

__all__ = ['euler_to_matrix', 'matrix_to_euler', 'axis_angle_to_matrix', 'matrix_to_axis_angle']


def _check_last(name: str, x: torch.Tensor, tail: tuple[int, ...]) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'{name} must be a torch.Tensor of shape ...×{"×".join(map(str, tail))}')
    if x.ndim < len(tail) or tuple(x.shape[-len(tail):]) != tail:
        raise ValueError(f'{name} must have shape ...×{"×".join(map(str, tail))} (e.g. B×{"×".join(map(str, tail))}),'
                         f' got {tuple(x.shape)}')
    check_floating(name, x)


def euler_to_matrix(angles: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``Rx(rx)·Ry(ry)·Rz(rz)`` from angles (the 001 motion-net output).

    Args:
        angles: ...×3 tensor (rx, ry, rz) in radians, usually B×3.

    Returns:
        ...×3×3 rotation matrices acting on column vectors.
    """
    _check_last('angles', angles, (3,))
    sx, sy, sz = torch.sin(angles).unbind(-1)
    cx, cy, cz = torch.cos(angles).unbind(-1)
    rows = [
        torch.stack([cy * cz, -cy * sz, sy], -1),
        torch.stack([cx * sz + sx * sy * cz, cx * cz - sx * sy * sz, -sx * cy], -1),
        torch.stack([sx * sz - cx * sy * cz, sx * cz + cx * sy * sz, cx * cy], -1),
    ]
    return torch.stack(rows, dim=-2)


def matrix_to_euler(R: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`euler_to_matrix`: angles (rx, ry, rz) with ry in [−π/2, π/2].

    Args:
        R: ...×3×3 rotation matrices.

    Returns:
        ...×3 angles in radians. At gimbal lock (|ry| = π/2) rx and rz are not unique; one valid pair is returned.
    """
    _check_last('R', R, (3, 3))
    # R[0,2] = sin ry; R[1,2] = −sin rx cos ry; R[2,2] = cos rx cos ry; R[0,1] = −cos ry sin rz; R[0,0] = cos ry cos rz.
    cy = torch.sqrt(R[..., 0, 0] ** 2 + R[..., 0, 1] ** 2)
    ry = torch.atan2(R[..., 0, 2], cy)
    rx = torch.atan2(-R[..., 1, 2], R[..., 2, 2])
    rz = torch.atan2(-R[..., 0, 1], R[..., 0, 0])
    # Gimbal lock: cos ry ≈ 0 leaves only rx + rz (ry = +π/2) or rz − rx (ry = −π/2) determined; take rz = 0.
    locked = cy < 1e-6 * (1.0 + R[..., 0, 2].abs())
    if bool(locked.any()):
        rx = torch.where(locked, torch.atan2(R[..., 2, 1], R[..., 1, 1]), rx)
        rz = torch.where(locked, torch.zeros_like(rz), rz)
    return torch.stack([rx, ry, rz], dim=-1)


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rotation matrices from axis-angle vectors (direction = axis, norm = angle in radians).

    Args:
        axis_angle: B×3.

    Returns:
        B×3×3 (Rodrigues' formula, via ``kornia.geometry.conversions.axis_angle_to_rotation_matrix``).
    """
    _check_last('axis_angle', axis_angle, (3,))
    return axis_angle_to_rotation_matrix(axis_angle)


def matrix_to_axis_angle(R: torch.Tensor) -> torch.Tensor:
    """Axis-angle vectors (B×3, angle in [0, π]) from B×3×3 rotation matrices (kornia, via quaternions)."""
    _check_last('R', R, (3, 3))
    return rotation_matrix_to_axis_angle(R)
