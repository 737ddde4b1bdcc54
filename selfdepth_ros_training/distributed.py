"""DDP plumbing: the same ``selfdepth train`` command runs alone or under ``torchrun --nproc_per_node=N``.

torchrun sets ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``; when they are
present the process group is started (gloo on CPU, nccl on GPU), the models are wrapped in
``DistributedDataParallel`` and each rank reads its shard through :class:`ResumableDistributedSampler`.
Only rank 0 writes logs and checkpoints.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist
from torch.utils.data import Dataset, DistributedSampler


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: ``rank`` of ``world_size`` processes, and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device('cpu')

    @property
    def is_main(self) -> bool:
        """True on the one process that writes logs and checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device: str | None = None) -> DistInfo:
    """Start the process group when launched by torchrun, pick the device, and return :class:`DistInfo`.

    Args:
        device: ``'cpu'``, ``'cuda'`` or None (CUDA when available).
    """
    use_cuda = torch.cuda.is_available() if device is None else device.startswith('cuda')
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError(f'device {device!r} asked for but CUDA is not available')
    world_size = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    if use_cuda:
        torch.cuda.set_device(local_rank)
        dev = torch.device('cuda', local_rank)
    else:
        dev = torch.device('cpu')
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend='nccl' if use_cuda else 'gloo')
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank, device=dev)


def cleanup() -> None:
    """Destroy the process group if this process started one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: torch.nn.Module, info: DistInfo) -> torch.nn.Module:
    """``DistributedDataParallel(module)`` under torchrun (no-op alone or for a module without trainable
    parameters). ``find_unused_parameters`` is on because a recipe may leave heads unused (e.g. the
    intrinsics head when the bag has CameraInfo)."""
    if not info.distributed or not any(p.requires_grad for p in module.parameters()):
        return module
    ids = [info.device.index] if info.device.type == 'cuda' else None
    return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)


def unwrap(module: torch.nn.Module) -> torch.nn.Module:
    """The bare module inside a DDP wrapper (for checkpoints: keys without ``module.``)."""
    return module.module if isinstance(module, torch.nn.parallel.DistributedDataParallel) else module


def barrier(info: DistInfo) -> None:
    if info.distributed:
        dist.barrier()


def all_reduce_mean(values: dict[str, float], info: DistInfo) -> dict[str, float]:
    """Average scalar logs over ranks (identity when alone)."""
    if not info.distributed or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64,
                     device=info.device if info.device.type == 'cuda' else 'cpu')
    dist.all_reduce(t)
    return {k: float(v) / info.world_size for k, v in zip(keys, t.tolist())}


class ResumableDistributedSampler(DistributedSampler):
    """``DistributedSampler`` whose epoch can start part-way, so a resumed run reads exactly the samples the
    uninterrupted run would have read.

    The order of epoch ``e`` is a permutation seeded by ``seed + e`` (as in ``DistributedSampler``); rank ``r``
    takes every ``world_size``-th index. ``set_epoch(e, skip=k)`` drops this rank's first ``k`` indices.
    Works alone too (``num_replicas=1, rank=0``).
    """

    def __init__(self, dataset: Dataset, num_replicas: int = 1, rank: int = 0, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = True) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed,
                         drop_last=drop_last)
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        super().set_epoch(epoch)
        if skip < 0:
            raise ValueError(f'skip must be >= 0, got {skip}')
        self.skip = skip

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())
        return iter(indices[self.skip:])

    def __len__(self) -> int:
        return max(0, self.num_samples - self.skip)
