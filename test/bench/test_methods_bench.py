"""bench.methods (issue 11's table): which data each recipe gets, and how medians, table and verdict are formed."""
from pathlib import Path

import pytest

from bench import methods

ROOT = Path(__file__).resolve().parents[2]
BAGS = {name: Path(f'/bags/{name}') for name in ('sim1', 'sim2', 'held', 'depth', 'odo')}


def test_one_source_recipes_train_on_the_synthetic_drives():
    args = methods.data_args(ROOT / 'config/train/dynamic_scenes_small.yaml', BAGS)
    assert args == ['--bags', BAGS['sim1'], BAGS['sim2']]


def test_alternating_recipes_get_the_real_snippet_as_their_real_source():
    args = methods.data_args(ROOT / 'config/train/sim2real_small.yaml', BAGS)
    assert args == ['--source', 'synthetic', BAGS['sim1'], BAGS['sim2'], '--source', 'real', BAGS['odo']]
    assert BAGS['depth'] not in args and BAGS['held'] not in args  # evaluation only


def _score(x: float) -> dict:
    return {'all': x, 'static': x / 2, 'dynamic': 2 * x, 'kitti_depth': x + 0.1, 'snippet_ate': x / 10}


def _result(core: list[float], s2r: list[float]) -> dict:
    runs = {'dynamic_scenes_small': dict(enumerate(map(_score, core))),
            'sim2real_small': dict(enumerate(map(_score, s2r)))}
    return {'seeds': {r: list(s) for r, s in runs.items()}, 'runs': runs, 'median': methods.summarise(runs),
            'baselines': {'constant depth': {'all': 0.44, 'static': 0.43, 'dynamic': 0.30, 'kitti_depth': 0.46},
                          'straight ahead, constant speed': {'snippet_ate': 0.09},
                          'shipped model': _score(0.2)}}


def test_medians_and_ranges_over_seeds():
    med = methods.summarise({'r': dict(enumerate(map(_score, [0.3, 0.1, 0.2])))})['r']
    assert med['all'] == {'median': 0.2, 'min': 0.1, 'max': 0.3}
    assert med['dynamic']['median'] == pytest.approx(0.4)


def test_verdict_passes_only_when_supervision_beats_the_core_and_the_baselines():
    good = methods.verdict(_result(core=[0.3, 0.3, 0.3], s2r=[0.2, 0.25, 0.1]))
    assert [ok for ok, _ in good] == [True, True, True, True]
    bad = methods.verdict(_result(core=[0.2] * 3, s2r=[0.3, 0.3, 0.3]))
    # worse than 001 small on all and moving pixels; kitti 0.4 beats the constant 0.46, not the filed 0.362
    assert [ok for ok, _ in bad] == [False, False, True, False]


def test_the_table_prints_every_baseline_beside_the_recipes():
    text = methods.table(_result(core=[0.3, 0.1, 0.2], s2r=[0.2, 0.2, 0.2]))
    for row in ('constant depth', 'straight ahead, constant speed', 'shipped model', 'dynamic_scenes_small',
                'sim2real_small'):
        assert f'| {row}' in text
    assert '**0.200** (0.100–0.300)' in text
