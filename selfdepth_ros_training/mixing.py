"""Which data source each optimiser step draws from, as a pure function of the step (deterministic, resumable).

004 alternates supervised steps on synthetic frames with self-supervised steps on real ones; other recipes mix
drives of two kinds. An :class:`Alternation` is a repeating pattern of source names, so step ``k`` draws from
``pattern[k % len(pattern)]`` and the number of batches a source has given before step ``k`` is arithmetic: a
resumed run needs no sampler state beyond the step to continue every source exactly where it stopped
(:class:`MixedBatches`; each source's own epoch order is the trainer's seeded, skip-able sampler).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ['Alternation', 'MixedBatches']


@dataclass(frozen=True)
class Alternation:
    """A repeating pattern of data-source names, one per optimiser step, e.g. ``('synthetic', 'real', 'real')``."""

    pattern: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.pattern or not all(isinstance(n, str) and n for n in self.pattern):
            raise ValueError(f'an alternation needs a non-empty pattern of source names, got {self.pattern!r}')
        object.__setattr__(self, 'pattern', tuple(self.pattern))

    @classmethod
    def from_weights(cls, weights: Mapping[str, int]) -> 'Alternation':
        """The shortest pattern with source ``s`` drawn ``weights[s]`` times per cycle (after dividing by their
        gcd), interleaved as evenly as possible (smooth weighted round robin; ties go to the earlier name)."""
        bad = {k: v for k, v in weights.items() if isinstance(v, bool) or not isinstance(v, int) or v < 0}
        if bad or not any(weights.values()):
            raise ValueError(f'alternation weights must be integers >= 0, at least one > 0; got {dict(weights)}')
        g = math.gcd(*weights.values())
        counts = {k: v // g for k, v in weights.items() if v}
        total, credit, pattern = sum(counts.values()), dict.fromkeys(counts, 0), []
        for _ in range(total):
            for k in counts:
                credit[k] += counts[k]
            pick = max(counts, key=lambda k: credit[k])  # first maximum: dict order breaks ties
            credit[pick] -= total
            pattern.append(pick)
        return cls(tuple(pattern))

    @property
    def sources(self) -> tuple[str, ...]:
        """Source names in order of first appearance."""
        return tuple(dict.fromkeys(self.pattern))

    def source(self, step: int) -> str:
        """The source step ``step`` (0-based) draws from."""
        return self.pattern[step % len(self.pattern)]

    def draws_before(self, name: str, step: int) -> int:
        """How many of the steps ``0 .. step-1`` drew from ``name``."""
        cycles, rest = divmod(step, len(self.pattern))
        return cycles * self.pattern.count(name) + self.pattern[:rest].count(name)


class MixedBatches:
    """``(source, batch)`` for every step from ``start_step`` on, each source read in its own epochs.

    Args:
        schedule: which source each step draws from.
        loader: ``loader(source, epoch, skip)`` returns an iterable over that source's batches of ``epoch``, the
            first ``skip`` batches left out (the trainer's seeded ``DataLoader``).
        batches_per_epoch: per source, how many batches one of its epochs has (> 0).
        start_step: the step to continue from (a resumed run's checkpoint step).
    """

    def __init__(self, schedule: Alternation, loader: Callable[[str, int, int], Iterable[Any]],
                 batches_per_epoch: Mapping[str, int], start_step: int = 0) -> None:
        missing = [s for s in schedule.sources if batches_per_epoch.get(s, 0) <= 0]
        if missing:
            raise ValueError(f'sources without a batch per epoch: {missing} (have {dict(batches_per_epoch)})')
        self.schedule, self.loader, self.bpe, self.step = schedule, loader, dict(batches_per_epoch), start_step
        self._iters: dict[str, Iterator[Any]] = {}

    def position(self, source: str, step: int | None = None) -> tuple[int, int]:
        """``(epoch, batch within it)`` of ``source``'s next batch at ``step`` (default: the current one)."""
        return divmod(self.schedule.draws_before(source, self.step if step is None else step), self.bpe[source])

    def __iter__(self) -> 'MixedBatches':
        return self

    def __next__(self) -> tuple[str, Any]:
        source = self.schedule.source(self.step)
        for _ in range(2):  # at most one new epoch per draw
            if source not in self._iters:
                epoch, skip = self.position(source)
                self._iters[source] = iter(self.loader(source, epoch, skip))
            try:
                batch = next(self._iters[source])
                break
            except StopIteration:
                del self._iters[source]
        else:
            raise RuntimeError(f'source {source!r} gave no batch at the start of an epoch')
        self.step += 1
        return source, batch
