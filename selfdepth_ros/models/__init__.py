"""Depth and motion networks of 001 (pure torch, no ROS), sized by ``ModelConfig``.

Used by the trainer, the node's ``Predictor`` and export alike, so they cannot disagree about a network.
"""
from .config import ModelConfig
from .depth_net import NUM_SCALES, DepthDecoder, DepthNet
from .layers import RandomizedLayerNorm, randln_ramp, set_randln_ramp
from .motion_net import MotionNet, MotionOutput
from .resnet import ResNetEncoder, adapt_first_conv, load_torchvision_weights

__all__ = [
    'NUM_SCALES', 'DepthDecoder', 'DepthNet', 'ModelConfig', 'MotionNet', 'MotionOutput', 'RandomizedLayerNorm',
    'ResNetEncoder', 'adapt_first_conv', 'count_parameters', 'load_torchvision_weights', 'randln_ramp',
    'set_randln_ramp',
]


def count_parameters(module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
