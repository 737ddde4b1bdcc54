"""Run-directory checkpoints: step-numbered files, keep the last k, find the newest, capture/restore RNG state.

The file format and the atomic write belong to ``selfdepth_ros.checkpoint`` (the node loads the same files);
this module only decides names and lifetimes under ``RUN_DIR/checkpoints/``::

    RUN_DIR/checkpoints/step_0000500.pt     # written atomically (temp file + rename)
    RUN_DIR/checkpoints/step_0001000.pt     # newest = highest step; older than the last k are deleted

RNG state is stored as tensors and plain ints so ``torch.load(weights_only=True)`` accepts it.
"""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

_NAME = re.compile(r'^step_(\d{7,})\.pt$')


def checkpoint_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / 'checkpoints'


def checkpoint_path(run_dir: str | Path, step: int) -> Path:
    """``RUN_DIR/checkpoints/step_NNNNNNN.pt`` for ``step``."""
    return checkpoint_dir(run_dir) / f'step_{step:07d}.pt'


def list_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of every complete checkpoint in the run, oldest first (temp files are ignored)."""
    folder = checkpoint_dir(run_dir)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The checkpoint with the highest step, or None when the run has none."""
    found = list_checkpoints(run_dir)
    return found[-1][1] if found else None


def newest_loadable(run_dir: str | Path, map_location: Any = 'cpu'
                    ) -> tuple[Path, dict[str, Any], list[tuple[Path, str]]] | None:
    """The newest checkpoint of the run that loads: ``(path, checkpoint, skipped)`` with ``skipped`` the newer
    ones that did not (path, reason), newest first; None when the run has none. Raises the newest one's
    ``CheckpointError`` when none loads (a corrupt newest file, e.g. a disk filled mid-run, falls back)."""
    from selfdepth_ros.checkpoint import CheckpointError, load_checkpoint
    skipped: list[tuple[Path, str]] = []
    first_error: CheckpointError | None = None
    for _, path in reversed(list_checkpoints(run_dir)):
        try:
            return path, load_checkpoint(path, map_location=map_location), skipped
        except CheckpointError as exc:
            first_error = first_error or exc
            skipped.append((path, str(exc)))
        except FileNotFoundError:  # pruned meanwhile
            continue
    if first_error is not None:
        raise first_error
    return None


def trained_bags(run_dir: str | Path) -> tuple[Path, list[str]] | None:
    """The newest checkpoint of the run that loads, and the bags it was trained on (``train_config['bags']``);
    None when the run has no checkpoint or it does not name its bags. Raises the newest one's
    ``CheckpointError`` when none loads."""
    found = newest_loadable(run_dir)
    if found is None:
        return None
    path, ckpt, _ = found
    bags = (ckpt.get('train_config') or {}).get('bags')
    return (path, [str(b) for b in bags]) if isinstance(bags, list) else None


_TEMP = re.compile(r'^\.step_\d{7,}\.pt\.[0-9a-f]{12}\.tmp$')


def remove_orphaned_temp_files(run_dir: str | Path) -> list[Path]:
    """Delete the temp files a killed run left behind (``.step_NNNNNNN.pt.<12 hex>.tmp``, the names
    ``selfdepth_ros.checkpoint.save_checkpoint`` writes before its rename); nothing else is touched."""
    folder = checkpoint_dir(run_dir)
    doomed = [p for p in folder.iterdir() if _TEMP.match(p.name) and p.is_file()] if folder.is_dir() else []
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def prune_checkpoints(run_dir: str | Path, keep_last: int) -> list[Path]:
    """Delete all but the ``keep_last`` newest checkpoints; returns the deleted paths."""
    if keep_last < 1:
        raise ValueError(f'keep_last must be >= 1, got {keep_last}')
    doomed = [p for _, p in list_checkpoints(run_dir)[:-keep_last]]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def capture_rng() -> dict[str, Any]:
    """The torch (CPU and CUDA), numpy and Python RNG states, as tensors/ints (weights_only-safe)."""
    np_state = np.random.get_state()
    py_version, py_internal, py_gauss = random.getstate()
    state: dict[str, Any] = {
        'torch': torch.get_rng_state(),
        'numpy': {'keys': torch.from_numpy(np_state[1].astype(np.int64)), 'pos': int(np_state[2]),
                  'has_gauss': int(np_state[3]), 'cached_gaussian': float(np_state[4])},
        'python': {'version': int(py_version), 'internal': torch.tensor(py_internal, dtype=torch.int64),
                   'gauss_next': py_gauss},
    }
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng` (missing parts are left alone)."""
    if 'torch' in state:
        torch.set_rng_state(state['torch'])
    if 'numpy' in state:
        s = state['numpy']
        np.random.set_state(('MT19937', s['keys'].numpy().astype(np.uint32), s['pos'], s['has_gauss'],
                             s['cached_gaussian']))
    if 'python' in state:
        s = state['python']
        random.setstate((s['version'], tuple(int(v) for v in s['internal'].tolist()), s['gauss_next']))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def comparable_recipe(recipe: dict[str, Any] | None) -> dict[str, Any] | None:
    """A checkpoint's recipe as ``--resume`` compares it: read by the current validator (older runs wrote the model
    section as given, not built, and lack keys added since), less the keys that may change on resume without
    changing the result (display, workers)."""
    from selfdepth_ros_training.config import ConfigError, config_from_dict
    if recipe is None:
        return None
    try:
        recipe = config_from_dict(recipe).to_dict()
    except ConfigError:
        pass
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in recipe.items()}
    out.get('log', {}).pop('progress_bar', None)
    out.get('data', {}).pop('num_workers', None)
    return out
