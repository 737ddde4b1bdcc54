"""DDP: the sampler shards and resumes exactly; a 2-process torchrun step gives one process's gradients."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

from selfdepth_ros_training.distributed import ResumableDistributedSampler

WORKER = Path(__file__).with_name('ddp_grad_worker.py')
ROOT = Path(__file__).resolve().parents[2]


def test_sampler_shards_cover_the_global_batch_and_skip_resumes():
    data = list(range(10))
    alone = ResumableDistributedSampler(data, num_replicas=1, rank=0, seed=4)
    alone.set_epoch(2)
    order = list(alone)
    ranks = [ResumableDistributedSampler(data, num_replicas=2, rank=r, seed=4) for r in (0, 1)]
    for s in ranks:
        s.set_epoch(2)
    shards = [list(s) for s in ranks]
    local_batch = 2  # global batch 4 = 2 ranks × 2
    for k in range(2):
        global_batch = set(order[4 * k:4 * k + 4])
        assert global_batch == set(shards[0][2 * k:2 * k + local_batch]) | set(shards[1][2 * k:2 * k + local_batch])
    alone.set_epoch(2, skip=3)
    assert list(alone) == order[3:] and len(alone) == 7


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_torchrun_matches_one_process_gradients(tmp_path):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    single = tmp_path / 'single.pt'
    subprocess.run([sys.executable, str(WORKER), str(single), str(tmp_path / 'run1')], check=True, env=env,
                   cwd=ROOT, timeout=300)
    ddp = tmp_path / 'ddp.pt'
    torchrun = [sys.executable, '-m', 'torch.distributed.run', '--nnodes=1', '--nproc_per_node=2',
                '--master_addr=127.0.0.1', f'--master_port={_free_port()}']
    subprocess.run(torchrun + [str(WORKER), str(ddp), str(tmp_path / 'run2')], check=True, env=env, cwd=ROOT,
                   timeout=300)
    a, b = torch.load(single, weights_only=True), torch.load(ddp, weights_only=True)
    assert a['world_size'] == 1 and b['world_size'] == 2
    assert a['grads'].keys() == b['grads'].keys() and len(a['grads']) > 50
    worst = max(float((a['grads'][k] - b['grads'][k]).abs().max() / (a['grads'][k].abs().max() + 1e-12))
                for k in a['grads'])
    assert worst < 1e-4, worst
