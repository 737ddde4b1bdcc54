"""Pinhole camera: intrinsics (build, scale, crop), pixel grid, back-projection and projection.

Conventions (docs/CONVENTIONS.md): pixel (u, v) = (column, row), pixel centres at integer coordinates, camera
optical frame x right / y down / z forward, metres.
"""
from __future__ import annotations

import torch

from selfdepth_ros.geometry.checks import check_floating, check_same_batch, check_shape

__all__ = ['intrinsics_matrix', 'scale_intrinsics', 'crop_intrinsics', 'pixel_grid', 'backproject', 'project']

Scalar = float | torch.Tensor


def _as_batch(x: Scalar, like: torch.Tensor | None = None) -> torch.Tensor:
    """A python number or tensor as a 1-D tensor (B,), on ``like``'s device and dtype if given."""
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)
    if like is not None:
        x = x.to(device=like.device, dtype=like.dtype)
    return x.reshape(-1)


def intrinsics_matrix(fx: Scalar, fy: Scalar, cx: Scalar, cy: Scalar) -> torch.Tensor:
    """Build pinhole intrinsics ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``.

    Args:
        fx, fy: focal lengths in pixels; python floats or tensors of shape (B,) or ().
        cx, cy: principal point in pixels (pixel-centre convention).

    Returns:
        B×3×3 tensor (B = 1 for scalars). Differentiable in all arguments (learned intrinsics).
    """
    ref = next((a for a in (fx, fy, cx, cy) if isinstance(a, torch.Tensor)), None)
    if ref is not None and not ref.is_floating_point():
        ref = ref.float()
    if ref is None:
        ref = torch.zeros((), dtype=torch.get_default_dtype())
    fx, fy, cx, cy = torch.broadcast_tensors(*(_as_batch(a, ref) for a in (fx, fy, cx, cy)))
    zero, one = torch.zeros_like(fx), torch.ones_like(fx)
    rows = [torch.stack([fx, zero, cx], -1), torch.stack([zero, fy, cy], -1), torch.stack([zero, zero, one], -1)]
    return torch.stack(rows, dim=-2)


def _left_multiply(K: torch.Tensor, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, d: torch.Tensor,
                   ) -> torch.Tensor:
    """``[[a, 0, c], [0, b, d], [0, 0, 1]] @ K`` with a, b, c, d of shape (B,) or (1,)."""
    a, b, c, d = torch.broadcast_tensors(a, b, c, d)
    A = intrinsics_matrix(a, b, c, d)
    return A @ K


def scale_intrinsics(K: torch.Tensor, sx: Scalar, sy: Scalar) -> torch.Tensor:
    """Intrinsics of an image resized by factors ``sx`` (width) and ``sy`` (height).

    Pixel centres map as ``u' = (u + 0.5)·sx − 0.5`` (what ``cv2.resize`` and
    ``F.interpolate(align_corners=False)`` do), hence ``fx' = sx·fx``, ``cx' = (cx + 0.5)·sx − 0.5`` (same in y).
    A skew term scales with ``sx``.

    Args:
        K: B×3×3 intrinsics (pixels).
        sx, sy: new_width / old_width and new_height / old_height; floats or tensors (B,).

    Returns:
        B×3×3 intrinsics of the resized image.
    """
    check_shape('K', K, ['B', '3', '3'])
    check_floating('K', K)
    sx_t, sy_t = _as_batch(sx, K), _as_batch(sy, K)
    return _left_multiply(K, sx_t, sy_t, 0.5 * sx_t - 0.5, 0.5 * sy_t - 0.5)


def crop_intrinsics(K: torch.Tensor, x0: Scalar, y0: Scalar) -> torch.Tensor:
    """Intrinsics of a crop whose top-left pixel is pixel (x0, y0) of the original image.

    Args:
        K: B×3×3 intrinsics (pixels).
        x0, y0: column and row of the crop's first pixel (pixels, may be tensors (B,)).

    Returns:
        B×3×3 with ``cx' = cx − x0``, ``cy' = cy − y0`` (focal lengths unchanged).
    """
    check_shape('K', K, ['B', '3', '3'])
    check_floating('K', K)
    one = torch.ones(1, dtype=K.dtype, device=K.device)
    return _left_multiply(K, one, one, -_as_batch(x0, K), -_as_batch(y0, K))


def pixel_grid(height: int, width: int, device: torch.device | str | None = None,
               dtype: torch.dtype | None = None) -> torch.Tensor:
    """Homogeneous pixel coordinates ``(u, v, 1)`` of every pixel centre.

    Returns:
        3×H×W tensor: channel 0 is the column u, channel 1 the row v, channel 2 ones.
    """
    if height < 1 or width < 1:
        raise ValueError(f'height and width must be positive, got {height}×{width}')
    dtype = dtype or torch.get_default_dtype()
    v, u = torch.meshgrid(torch.arange(height, device=device, dtype=dtype),
                          torch.arange(width, device=device, dtype=dtype), indexing='ij')
    return torch.stack([u, v, torch.ones_like(u)], dim=0)


def backproject(depth: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Lift every pixel to a 3D point in its camera frame: ``X = z · K⁻¹ (u, v, 1)ᵀ``.

    Args:
        depth: B×1×H×W z-depth (metres, not ray length).
        K: B×3×3 intrinsics (pixels).

    Returns:
        B×3×H×W points (metres) in the camera optical frame.
    """
    H, W = check_shape('depth', depth, ['B', '1', 'H', 'W'])['H'], depth.shape[-1]
    check_shape('K', K, ['B', '3', '3'])
    check_same_batch(depth=depth, K=K)
    check_floating('depth', depth)
    grid = pixel_grid(H, W, depth.device, depth.dtype).reshape(3, -1)
    rays = torch.linalg.inv(K.to(depth.dtype)) @ grid  # B×3×HW
    return rays.reshape(-1, 3, H, W) * depth


def project(points: torch.Tensor, K: torch.Tensor, eps: float = 1e-8) -> tuple[torch.Tensor, torch.Tensor]:
    """Project camera-frame points to pixels: ``z (u, v, 1)ᵀ = K X``.

    Args:
        points: B×3×H×W points (metres) in the camera optical frame.
        K: B×3×3 intrinsics (pixels).
        eps: |z| below this is replaced by ``eps`` before dividing, so uv stays finite (and gradients NaN-free)
            for points on the camera plane; such points are invalid for any use anyway (see ``warp``).

    Returns:
        (uv, z): uv B×2×H×W pixel coordinates (column, row); z B×1×H×W depth along the optical axis (metres).
    """
    check_shape('points', points, ['B', '3', 'H', 'W'])
    check_shape('K', K, ['B', '3', '3'])
    check_same_batch(points=points, K=K)
    B, _, H, W = points.shape
    pix = (K.to(points.dtype) @ points.reshape(B, 3, -1)).reshape(B, 3, H, W)
    z = pix[:, 2:3]
    z_safe = torch.where(z.abs() > eps, z, torch.full_like(z, eps))
    return pix[:, :2] / z_safe, z
