"""``~/motion/visual``: the object-translation field as an rgb8 colour-wheel image (numpy + OpenCV, no ROS).

Hue is the direction of the field's image-plane components ``(T_x, T_y)`` (optical axes: x right, y down), as an
optical-flow colour wheel: right red, down yellow-green, left cyan, up violet. Brightness is the 3D magnitude
``|T_obj|`` over ``scale`` (metres per frame interval at full brightness), so the static scene is black.
``scale`` 0 normalises each frame by its 99th-percentile magnitude (at least 1 mm). Non-finite pixels are black.
"""
from __future__ import annotations

import cv2
import numpy as np

MIN_AUTO_SCALE = 1e-3


def motion_to_rgb(motion: np.ndarray, scale: float = 0.0) -> tuple[np.ndarray, float]:
    """``H×W×3`` float motion → (``H×W×3`` uint8 RGB, the scale used in metres per frame interval)."""
    m = np.asarray(motion, dtype=np.float32)
    if m.ndim != 3 or m.shape[2] != 3:
        raise ValueError(f'motion must be H×W×3, got {m.shape}')
    mag = np.linalg.norm(m, axis=2)
    finite = np.isfinite(mag)
    if scale > 0:
        ref = float(scale)
    else:
        ref = max(float(np.percentile(mag[finite], 99)) if finite.any() else 0.0, MIN_AUTO_SCALE)
    hue = (np.degrees(np.arctan2(m[..., 1], m[..., 0])) % 360.0) / 2.0  # OpenCV 8-bit hue: 0..179
    val = np.clip(np.where(finite, mag, 0.0) / ref, 0.0, 1.0) * 255.0
    hsv = np.stack([np.where(finite, hue, 0.0), np.full_like(val, 255.0), val], axis=2)
    rgb = cv2.cvtColor(np.round(hsv).clip(0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB)
    return rgb, ref
