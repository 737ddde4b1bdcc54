"""The ``log:`` section: what a run writes and how often."""
from __future__ import annotations

from dataclasses import dataclass

from selfdepth_ros_training.config.validate import require as _require


@dataclass
class LogConfig:
    """What the run writes under RUN_DIR and how often (steps)."""

    every: int = 10
    """Scalar log period (CSV row and progress-bar refresh)."""
    image_every: int = 500
    """Image summary period (PNG grids of input, depth and motion field under RUN_DIR/images/); 0 = never."""
    checkpoint_every: int = 1000
    """Checkpoint period; a final checkpoint is always written at the last step."""
    keep_last: int = 3
    """Number of most recent checkpoints kept (older ones are deleted)."""
    progress_bar: bool = True

    def __post_init__(self) -> None:
        _require(self.every >= 1, f'every must be >= 1, got {self.every}')
        _require(self.image_every >= 0, f'image_every must be >= 0, got {self.image_every}')
        _require(self.checkpoint_every >= 1, f'checkpoint_every must be >= 1, got {self.checkpoint_every}')
        _require(self.keep_last >= 1, f'keep_last must be >= 1, got {self.keep_last}')
