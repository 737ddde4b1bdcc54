"""Shared fixture: a tiny network config (same code paths as the real ones, fast on 2 cores)."""
import pytest

from selfdepth_ros.models import ModelConfig


@pytest.fixture
def tiny() -> ModelConfig:
    """ResNet18 layout at width 8 on 64×64 inputs: for logic tests; shapes are tested on the real configs."""
    return ModelConfig.small(height=64, width=64, encoder_width=8, decoder_width=4, motion_refine_width=8)
