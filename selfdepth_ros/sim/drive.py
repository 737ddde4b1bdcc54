"""The Python API of the synthetic world: ``iter_frames(cfg)`` / ``render_drive(cfg)``.

Tests, the trainer and the recorder use these directly (no bag needed). Each :class:`Frame` carries the
8-bit image and the exact ground truth of docs/CONVENTIONS.md; ``Drive`` stacks them.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from selfdepth_ros.sim.config import SimConfig
from selfdepth_ros.sim.render import Renderer
from selfdepth_ros.sim.scene import Scene, make_scene


@dataclass
class Frame:
    """One rendered frame t of a drive."""

    index: int
    """t, 0-based."""
    stamp_ns: int
    """Stamp in nanoseconds."""
    rgb: np.ndarray
    """H×W×3 uint8 RGB (with the configured nuisances)."""
    depth: np.ndarray
    """H×W float32 z-depth, metres; ``cfg.sky_depth`` on sky; never inf/NaN."""
    pose: np.ndarray
    """4×4 float64 ``T_odom_cam`` of the camera optical frame."""
    motion: np.ndarray
    """H×W×3 float32 ``T_obj`` of the pair (t → t+1), frame-(t+1) camera axes, metres; 0 on static pixels."""
    semantic: np.ndarray
    """H×W uint8 labels: 0 sky, 1 road, 2 building, 3 pole, 4 vehicle, 5 sidewalk."""
    moving_mask: np.ndarray
    """H×W uint8, 255 on objects whose world pose changes between t and t+1, else 0."""
    K: np.ndarray
    """3×3 float64 intrinsics, pixels."""


@dataclass
class Drive:
    """A whole drive, arrays stacked over N frames (fields as in :class:`Frame`)."""

    config: SimConfig
    rgb: np.ndarray
    """N×H×W×3 uint8."""
    depth: np.ndarray
    """N×H×W float32."""
    pose: np.ndarray
    """N×4×4 float64."""
    motion: np.ndarray
    """N×H×W×3 float32."""
    semantic: np.ndarray
    """N×H×W uint8."""
    moving_mask: np.ndarray
    """N×H×W uint8."""
    K: np.ndarray
    """3×3 float64."""
    stamps_ns: np.ndarray
    """N int64."""

    def __len__(self) -> int:
        return len(self.rgb)

    def frame(self, index: int) -> Frame:
        """Frame ``index`` as a :class:`Frame` (views, not copies)."""
        return Frame(index=index, stamp_ns=int(self.stamps_ns[index]), rgb=self.rgb[index], depth=self.depth[index],
                     pose=self.pose[index], motion=self.motion[index], semantic=self.semantic[index],
                     moving_mask=self.moving_mask[index], K=self.K)


def to_uint8(rgb: np.ndarray, gain: float = 1.0, noise: np.ndarray | None = None) -> np.ndarray:
    """H×W×3 float colour in [0, 1] -> uint8, after an exposure ``gain`` and additive ``noise`` (8-bit units)."""
    value = rgb * (255.0 * gain)
    if noise is not None:
        value = value + noise
    return np.clip(np.rint(value), 0, 255).astype(np.uint8)


def iter_frames(cfg: SimConfig, progress: bool = False, scene: Scene | None = None) -> Iterator[Frame]:
    """Render the drive of ``cfg`` frame by frame (deterministic in ``cfg``); ``progress`` shows a tqdm bar."""
    if not isinstance(cfg, SimConfig):
        raise TypeError(f'cfg must be a SimConfig, got {type(cfg).__name__}')
    scene = make_scene(cfg) if scene is None else scene
    renderer = Renderer(cfg, scene)
    nuisance = np.random.default_rng([cfg.seed, 2])
    indices = range(cfg.frames)
    if progress:
        from tqdm import tqdm
        indices = tqdm(indices, desc='rendering', unit='frame')
    for k in indices:
        out = renderer.render(k)
        gain = float(np.exp(nuisance.normal(0.0, cfg.exposure_jitter))) if cfg.exposure_jitter > 0 else 1.0
        noise = nuisance.normal(0.0, cfg.noise_std, out.rgb.shape) if cfg.noise_std > 0 else None
        yield Frame(index=k, stamp_ns=cfg.stamp_ns(k), rgb=to_uint8(out.rgb, gain, noise), depth=out.depth,
                    pose=out.pose, motion=out.motion, semantic=out.semantic, moving_mask=out.moving_mask,
                    K=cfg.K)


def render_drive(cfg: SimConfig, progress: bool = False) -> Drive:
    """Render every frame of ``cfg`` and stack them into a :class:`Drive`."""
    frames = list(iter_frames(cfg, progress=progress))
    return Drive(config=cfg, rgb=np.stack([f.rgb for f in frames]), depth=np.stack([f.depth for f in frames]),
                 pose=np.stack([f.pose for f in frames]), motion=np.stack([f.motion for f in frames]),
                 semantic=np.stack([f.semantic for f in frames]),
                 moving_mask=np.stack([f.moving_mask for f in frames]), K=cfg.K,
                 stamps_ns=np.array([f.stamp_ns for f in frames], np.int64))
