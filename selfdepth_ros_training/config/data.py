"""The ``data:`` section: how bags become batches."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from selfdepth_ros_training.config.validate import ConfigError
from selfdepth_ros_training.config.validate import require as _require


@dataclass
class DataConfig:
    """How bags become batches."""

    height: int = 128
    """Network input height in pixels (frames are resized and K scaled to it)."""
    width: int = 416
    """Network input width in pixels."""
    frames: int | None = None
    """Frames per sample: 2 = an ordered pair (001), 3 = a triplet (t-1, t, t+1) as in monodepth2. The method
    declares how many it needs (``selfdepth_ros_training.methods``); leave it out and the recipe takes that count, give it and
    it must agree."""
    stride: int = 1
    """Frame step between the frames of one sample."""
    batch_size: int = 16
    """Global batch size (split evenly across DDP ranks)."""
    num_workers: int = 0
    """DataLoader worker processes per rank."""
    random_flip: bool = True
    """Flip each sample horizontally with probability 1/2 (K's cx mirrored accordingly)."""
    random_rotation_deg: float = 0.0
    """Turn the last frame of half the samples by a random camera rotation, yaw within ± this many degrees (pitch and
    roll a quarter of it), by a pure-rotation homography (``selfdepth_ros_training.augment.rotate_last_frame``); 0 = off. Ours."""
    random_scale_crop: tuple[float, float] | None = None
    """003's depth-cue-preserving augmentation: ``[low, high]`` resize factors of the network-size frame (uniform,
    each sample its own), cropped back to the network size for the depth branch, K updated, the motion net on the
    whole frames and its translation divided by the factor (``selfdepth_ros_training.scale_crop``; 003's 0.5–1.5 of frames twice
    the pose branch's size is ``[1, 3]``). null = off."""
    min_mean_abs_diff: float = 0.01
    """Drop near-duplicate samples whose mean |I2 - I1| (RGB in [0, 1]) is below this (001); ``pair_selection:
    index`` only."""
    image_topic: str = '/camera/image_raw'
    """Image topic of every bag: ``sensor_msgs/Image`` (any encoding the node accepts) or ``CompressedImage``
    (jpeg/png). ``selfdepth train --image-topic`` overrides it."""
    camera_info_topic: str | None = '/camera/camera_info'
    """CameraInfo topic; ``''`` or null ignores CameraInfo. A bag without it trains the learned-intrinsics head
    (001). ``selfdepth train --camera-info-topic`` overrides it."""
    pair_selection: Literal['index', 'parallax'] = 'index'
    """``index``: frames ``stride`` apart, near-duplicates dropped by ``min_mean_abs_diff``. ``parallax``: per frame
    t the smallest stride k in ``stride..max_stride`` whose image motion (median sparse Lucas-Kanade flow at the
    network size) reaches ``min_parallax_px``; frames that never reach it (a stopped car) are dropped. Triplets
    use the symmetric (t-k, t, t+k) with both halves reaching it."""
    max_stride: int = 5
    """Largest frame stride ``pair_selection: parallax`` may pick."""
    min_parallax_px: float = 1.0
    """Image motion, in pixels at the network size, that ``pair_selection: parallax`` requires per frame pair."""
    alternate: dict[str, int] = field(default_factory=dict)
    """Several data sources, by name, and how many of each cycle's optimiser steps each gives, e.g.
    ``{synthetic: 1, real: 2}`` (004 alternates synthetic-supervised and real self-supervised steps); interleaved
    evenly and resumable (``selfdepth_ros_training.mixing.Alternation.from_weights``). Empty: one source. The trainer is given
    one dataset per name; each batch carries its ``source`` name."""

    def __post_init__(self) -> None:
        _require(self.height >= 16 and self.width >= 16, 'height and width must be >= 16 pixels')
        _require(self.height % 32 == 0 and self.width % 32 == 0,
                 f'height and width must be multiples of 32 (encoder stride), got {self.height}x{self.width}')
        _require(self.frames in (None, 2, 3), f'frames must be 2 or 3, got {self.frames}')
        _require(self.stride >= 1, f'stride must be >= 1, got {self.stride}')
        _require(0.0 <= self.random_rotation_deg <= 20.0,
                 f'random_rotation_deg must be in [0, 20], got {self.random_rotation_deg}')
        if self.random_scale_crop is not None:
            from selfdepth_ros_training.scale_crop import check_scale_range
            try:
                check_scale_range(self.random_scale_crop)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        _require(self.batch_size >= 1, f'batch_size must be >= 1, got {self.batch_size}')
        _require(self.num_workers >= 0, f'num_workers must be >= 0, got {self.num_workers}')
        _require(0.0 <= self.min_mean_abs_diff < 1.0, f'min_mean_abs_diff must be in [0, 1), got {self.min_mean_abs_diff}')
        _require(self.pair_selection in ('index', 'parallax'),
                 f"pair_selection must be 'index' or 'parallax', got {self.pair_selection!r}")
        _require(self.pair_selection == 'index' or self.max_stride >= self.stride,
                 f'max_stride ({self.max_stride}) must be >= stride ({self.stride}) with pair_selection parallax')
        _require(self.min_parallax_px > 0.0, f'min_parallax_px must be > 0, got {self.min_parallax_px}')
        _require(bool(self.image_topic), 'image_topic must name a topic')
        if self.alternate:
            from selfdepth_ros_training.mixing import Alternation
            try:
                Alternation.from_weights(self.alternate)
            except ValueError as exc:
                raise ConfigError(f'alternate: {exc}') from None
