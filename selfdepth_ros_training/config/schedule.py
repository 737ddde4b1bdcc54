"""The ``schedule:`` section: step-dependent switches of the nets (001's burn-in and noise ramp)."""
from __future__ import annotations

from dataclasses import dataclass

from selfdepth_ros_training.config.validate import require as _require


@dataclass
class ScheduleConfig:
    """Step-dependent switches (001): residual-field burn-in and the randomized layer-norm noise ramp."""

    field_burn_in_start: int = 10_000
    """Steps with the residual motion field held at zero."""
    field_burn_in_end: int = 20_000
    """Step at which the residual field's linear ramp reaches full scale."""
    layer_norm_ramp_steps: int = 10_000
    """Steps over which the randomized layer-norm noise ramps in, as ``min(step / steps, 1)**2`` (001; 0 = full
    noise from the start); see ``selfdepth_ros.models.layers.randln_ramp``."""

    def __post_init__(self) -> None:
        _require(self.field_burn_in_start >= 0, 'field_burn_in_start must be >= 0')
        _require(self.field_burn_in_end >= self.field_burn_in_start,
                 f'field_burn_in_end ({self.field_burn_in_end}) must be >= field_burn_in_start '
                 f'({self.field_burn_in_start})')
        _require(self.layer_norm_ramp_steps >= 0, 'layer_norm_ramp_steps must be >= 0')

    def field_scale(self, step: int) -> float:
        """Residual-field multiplier at ``step``: 0 during burn-in, then linear to 1."""
        if step < self.field_burn_in_start:
            return 0.0
        if step >= self.field_burn_in_end:
            return 1.0
        return (step - self.field_burn_in_start) / float(self.field_burn_in_end - self.field_burn_in_start)
