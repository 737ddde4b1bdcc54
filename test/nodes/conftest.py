"""Fixtures for the node tests: a cheap deterministic stand-in for the Predictor and a textured frame maker."""
import math

import numpy as np
import pytest


class FakePredictor:
    """Same interface as ``selfdepth_ros.inference.Predictor``, numpy-only and deterministic (tests only).

    depth = 2 + mean(rgb)/255 m per pixel; ego = camera forward 0.5 m per frame and 0.01 rad yaw;
    motion = a constant 0.1 m field; the pair resets on the first frame, a size change or a time gap.
    """

    def __init__(self, max_gap_s: float = 0.5):
        self.max_gap_s, self._prev, self.loaded = max_gap_s, None, None

    def describe(self):
        return {'checkpoint': self.loaded or 'fake', 'device': 'cpu', 'net_size': 'half'}

    def load(self, checkpoint):
        if not str(checkpoint).endswith('.pt'):
            raise FileNotFoundError(f'{checkpoint} is not a checkpoint')
        self.loaded, self._prev = str(checkpoint), None

    def reset(self, reason='reset requested'):
        self._prev = None

    def predict(self, rgb, K=None, stamp_ns=None):
        from types import SimpleNamespace
        h, w = rgb.shape[:2]
        depth = (2.0 + rgb.astype(np.float32).mean(axis=2) / 255.0).astype(np.float32)
        if K is None:
            f = 0.5 * w / math.tan(math.radians(30))
            K = np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1.0]])
        K_net = K.copy()
        K_net[:2] *= 0.5
        reason = 'first frame' if self._prev is None else None
        if self._prev is not None and self._prev[0] != (h, w):
            reason = 'image size changed'
        elif self._prev is not None and stamp_ns is not None and (stamp_ns - self._prev[1]) * 1e-9 > self.max_gap_s:
            reason = 'time gap'
        ego = motion = None
        if reason is None:
            c, s = math.cos(0.01), math.sin(0.01)
            ego = (np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]), np.array([0.0, 0.0, -0.5]))
            motion = np.full((h, w, 3), 0.1, np.float32)
        self._prev = ((h, w), stamp_ns)
        return SimpleNamespace(depth=depth, depth_net=depth[::2, ::2].copy(), K=K, K_net=K_net, K_source='given',
                               ego=ego, motion=motion, motion_net=None if motion is None else motion[::2, ::2],
                               latency_ms=1.0, reset_reason=reason, stamp_ns=stamp_ns)


@pytest.fixture
def fake_predictor_cls():
    return FakePredictor


def textured_frame(h: int, w: int, shift: int = 0) -> np.ndarray:
    """``h×w×3`` uint8 RGB: a checkerboard-and-gradient texture, shifted ``shift`` pixels to the left."""
    v, u = np.mgrid[0:h, 0:w]
    u = u + shift
    checker = (((u // 8) + (v // 8)) % 2) * 120
    return np.stack([checker + (u * 2) % 100, checker + v % 90, (u + v) % 255], axis=2).astype(np.uint8)


@pytest.fixture
def make_frame():
    return textured_frame
