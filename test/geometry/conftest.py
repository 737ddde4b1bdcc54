"""Analytic scenes for the geometry tests: a textured plane rendered exactly by ray casting."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest


@dataclass
class TexturedPlane:
    """The plane ``n·X = d`` in world coordinates with a smooth RGB texture painted on it.

    ``wavelength`` (metres) sets how fast the texture varies; keep several pixels per period so bilinear
    interpolation errors stay small compared with the errors a wrong geometry causes.
    """

    normal: tuple[float, float, float] = (0.0, -0.25, -1.0)
    offset: float = -6.0
    wavelength: float = 2.0

    def render(self, K: np.ndarray, R_cw: np.ndarray, t_cw: np.ndarray, height: int, width: int,
               ) -> tuple[np.ndarray, np.ndarray]:
        """Image (H×W×3 float64 in [0, 1]) and z-depth (H×W, metres) seen by a camera with
        ``X_cam = R_cw·X_world + t_cw``."""
        n = np.asarray(self.normal, float)
        scale = np.linalg.norm(n)
        n, d = n / scale, self.offset / scale
        v, u = np.mgrid[0:height, 0:width].astype(float)
        rays = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(K).T  # z = 1 rays in camera frame
        # World point of camera point X: R_cwᵀ(X − t_cw). Solve n·R_cwᵀ(z·r − t_cw) = d for z.
        n_cam = R_cw @ n
        z = (d + n @ (R_cw.T @ t_cw)) / (rays @ n_cam)
        X_world = ((rays * z[..., None]) - t_cw) @ R_cw
        e1 = np.cross(n, [0.0, 1.0, 0.0])
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(n, e1)
        s, q = X_world @ e1, X_world @ e2
        k = 2 * np.pi / self.wavelength
        img = np.stack([0.5 + 0.25 * np.sin(k * s) + 0.2 * np.cos(0.8 * k * q),
                        0.5 + 0.3 * np.sin(0.7 * k * q + 0.5 * k * s + 1.0),
                        0.5 + 0.2 * np.cos(1.1 * k * s - 0.4 * k * q) + 0.1 * np.sin(0.5 * k * q)], -1)
        return img, z


@pytest.fixture
def plane() -> TexturedPlane:
    return TexturedPlane()
