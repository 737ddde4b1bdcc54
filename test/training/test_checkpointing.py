"""Run-directory checkpoints: names, newest, keep-last-k, and RNG capture that survives weights_only."""
import random

import numpy as np
import torch

from selfdepth_ros_training.checkpointing import (capture_rng, checkpoint_path, latest_checkpoint, list_checkpoints,
                                    prune_checkpoints, restore_rng)


def test_names_latest_and_prune(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    for step in (5, 100, 20):
        checkpoint_path(tmp_path, step).parent.mkdir(parents=True, exist_ok=True)
        checkpoint_path(tmp_path, step).write_bytes(b'x')
    (tmp_path / 'checkpoints' / '.step_0000200.pt.abc.tmp').write_bytes(b'half')  # an interrupted write
    assert [s for s, _ in list_checkpoints(tmp_path)] == [5, 20, 100]
    assert latest_checkpoint(tmp_path).name == 'step_0000100.pt'
    deleted = prune_checkpoints(tmp_path, keep_last=2)
    assert [p.name for p in deleted] == ['step_0000005.pt']
    assert [s for s, _ in list_checkpoints(tmp_path)] == [20, 100]


def test_rng_round_trip_through_weights_only_load(tmp_path):
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    state = capture_rng()
    torch.save(state, tmp_path / 'rng.pt')
    expected = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    restore_rng(torch.load(tmp_path / 'rng.pt', weights_only=True))
    again = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    assert torch.equal(expected[0], again[0])
    assert np.array_equal(expected[1], again[1]) and expected[2] == again[2]
