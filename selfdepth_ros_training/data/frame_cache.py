"""Decoded-frame cache: an in-memory LRU in front of an optional on-disk ``.npy`` store.

Decoding (CDR, jpeg/png, resize) is the dataset's cost; epochs after the first read the cache. The disk key
includes the bag's path, total size and newest mtime, so a re-recorded or edited bag is never served stale.
"""
from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np

__all__ = ['FrameCache', 'bag_cache_key']


def bag_cache_key(path: str | Path, *parts: object) -> str:
    """16 hex chars from the bag's absolute path, total byte size, newest mtime (ns) and ``parts``."""
    path = Path(path).resolve()
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    stats = [f.stat() for f in files]
    text = repr((str(path), sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0), parts))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class FrameCache:
    """``get(key, make)``: the array for ``key = (bag_key, stream, index)``, computed by ``make()`` at most once.

    Args:
        capacity: arrays kept in memory (least recently used evicted); 0 disables the memory level.
        cache_dir: directory for ``<bag_key>/<stream>_<index>.npy`` files, or ``None`` for memory only.
    """

    def __init__(self, capacity: int = 512, cache_dir: str | Path | None = None) -> None:
        if capacity < 0:
            raise ValueError(f'capacity must be >= 0, got {capacity}')
        self.capacity = int(capacity)
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self._memory: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self.hits = self.disk_hits = self.misses = 0

    def _file(self, key: tuple[str, str, int]) -> Path:
        bag_key, stream, index = key
        return self.cache_dir / bag_key / f'{stream}_{int(index):07d}.npy'

    def get(self, key: tuple[str, str, int], make: Callable[[], np.ndarray]) -> np.ndarray:
        if key in self._memory:
            self._memory.move_to_end(key)
            self.hits += 1
            return self._memory[key]
        arr = None
        if self.cache_dir is not None:
            f = self._file(key)
            try:
                arr = np.load(f)
                self.disk_hits += 1
            except (OSError, ValueError):  # missing, or a file cut by a crash: recompute
                arr = None
        if arr is None:
            self.misses += 1
            arr = np.ascontiguousarray(make())
            if self.cache_dir is not None:
                self._save(self._file(key), arr)
        if self.capacity:
            self._memory[key] = arr
            while len(self._memory) > self.capacity:
                self._memory.popitem(last=False)
        return arr

    @staticmethod
    def _save(f: Path, arr: np.ndarray) -> None:
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_name(f'.{f.name}.{os.getpid()}.tmp')
        with tmp.open('wb') as fh:
            np.save(fh, arr)
        os.replace(tmp, f)  # atomic: concurrent DataLoader workers never read a half-written file
