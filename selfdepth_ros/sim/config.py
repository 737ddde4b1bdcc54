"""Configuration of a synthetic drive (:class:`SimConfig`) and its pinhole camera.

All lengths are metres, angles radians, times seconds, image sizes pixels. The defaults give a KITTI-like
416×128 camera (``fx = fy = 0.58·W`` ≈ KITTI's 721 px focal length scaled from 1242 px to 416 px) mounted
1.65 m above the road, driving at about 8 m/s and recording at 10 Hz.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_WIDTH = 16
MIN_HEIGHT = 8


@dataclass(frozen=True)
class SimConfig:
    """Everything that defines a drive; the same config always renders the same pixels."""

    width: int = 416
    """Image width W in pixels (>= 16)."""
    height: int = 128
    """Image height H in pixels (>= 8)."""
    frames: int = 200
    """Number of rendered frames (>= 2: the motion field needs a pair)."""
    seed: int = 0
    """Seed of the scene layout, the ego path, the other vehicles and the nuisances."""
    moving_objects: int = 4
    """Other vehicles with non-zero world motion, cycling through the kinds: ego-locked (drives with the
    ego vehicle, appears static in the image), oncoming, same direction at another speed, crossing."""
    parked_vehicles: int = 3
    """Static vehicles parked at the kerb (vehicle label, not in the moving mask)."""
    fps: float = 10.0
    """Frame rate in Hz; stamps are ``start_ns + round(k·1e9/fps)``."""
    fx: float | None = None
    """Focal length in pixels along u; None -> 0.58·W."""
    fy: float | None = None
    """Focal length in pixels along v; None -> fx (square pixels)."""
    cx: float | None = None
    """Principal point column; None -> (W-1)/2 (pixel centres at integer coordinates)."""
    cy: float | None = None
    """Principal point row; None -> (H-1)/2."""
    camera_height: float = 1.65
    """Height of the camera optical centre above the road plane, metres."""
    speed: float = 8.0
    """Mean ego speed in m/s; the speed oscillates smoothly by ±30 % around it."""
    sky_depth: float = 1000.0
    """Finite z-depth written for sky pixels, metres."""
    supersample: bool = True
    """Anti-alias colour: a 5×5 binomial filter (σ ≈ 0.5 px) over half-pixel samples, ray-cast where the
    one-ray-per-pixel image changes (see ``supersample_threshold``), interpolated elsewhere."""
    supersample_threshold: float = 0.03
    """Colour difference (linear RGB in [0, 1], any channel) between neighbouring pixel-centre samples from which
    the half-pixel sample between them is ray-cast (a change of surface always is); 0 casts every half-pixel
    sample (exhaustive, about 4 rays per pixel)."""
    exposure_jitter: float = 0.0
    """Std of the per-frame log exposure gain (0 = off); e.g. 0.05 for ±5 % brightness changes."""
    noise_std: float = 0.0
    """Std of additive Gaussian pixel noise in 8-bit units (0 = off)."""
    start_ns: int = 1_700_000_000_000_000_000
    """Stamp of frame 0 in nanoseconds."""

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> ValueError:
            return ValueError(f'SimConfig.{name} must be {expected}, got {getattr(self, name)!r}')

        for name, lo in (('width', MIN_WIDTH), ('height', MIN_HEIGHT), ('frames', 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
                raise bad(name, f'an integer >= {lo}')
        for name in ('moving_objects', 'parked_vehicles'):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= 64:
                raise bad(name, 'an integer in [0, 64]')
        for name in ('fps', 'camera_height', 'speed', 'sky_depth'):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) <= 0:
                raise bad(name, 'a finite number > 0')
        if not 0.3 <= self.camera_height <= 10.0:
            raise bad('camera_height', 'between 0.3 and 10 m')
        if self.speed > 40.0:
            raise bad('speed', 'at most 40 m/s')
        if self.sky_depth < 100.0:
            raise bad('sky_depth', '>= 100 m (sky must stay behind the scene)')
        for name in ('fx', 'fy'):
            value = getattr(self, name)
            if value is not None and (not np.isfinite(value) or value <= 0):
                raise bad(name, 'None or a finite number > 0 (pixels)')
        for name in ('cx', 'cy'):
            value = getattr(self, name)
            if value is not None and not np.isfinite(value):
                raise bad(name, 'None or a finite number (pixels)')
        for name in ('exposure_jitter', 'noise_std', 'supersample_threshold'):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) < 0:
                raise bad(name, 'a finite number >= 0')

    @property
    def K(self) -> np.ndarray:
        """3×3 float64 intrinsics matrix (pixels)."""
        fx = 0.58 * self.width if self.fx is None else float(self.fx)
        fy = fx if self.fy is None else float(self.fy)
        cx = (self.width - 1) / 2.0 if self.cx is None else float(self.cx)
        cy = (self.height - 1) / 2.0 if self.cy is None else float(self.cy)
        return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])

    @property
    def dt(self) -> float:
        """Frame interval in seconds."""
        return 1.0 / self.fps

    def stamp_ns(self, index: int) -> int:
        """Stamp of frame ``index`` in nanoseconds."""
        return int(self.start_ns + round(index * 1e9 / self.fps))
