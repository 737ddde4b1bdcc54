"""Smoke tests of the benchmark board: tiny sizes, one round; they check structure, never a timing."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

# bench/ is a top-level folder run with `python -m bench.<name>` from the repo root, not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench import common, net_latency, plot_summary, run_all  # noqa: E402


@pytest.fixture(scope='module')
def net_result(tmp_path_factory):
    """One tiny net_latency run (small preset, 64×64, 1 round, no warm-up), read back from its JSON."""
    out = tmp_path_factory.mktemp('bench') / 'net_latency.json'
    rc = net_latency.main(['--preset', 'small', '--sizes', '64x64', '--rounds', '1', '--warmup', '0',
                           '--variants', 'eager', 'channels_last', 'onnxruntime', '--out', str(out)])
    assert rc == 0
    return json.loads(out.read_text())


def test_net_latency_json_is_well_formed(net_result):
    assert net_result['benchmark'] == 'net_latency' and net_result['device'] == 'cpu'
    assert net_result['failed_variants'] == {}
    assert len(net_result['machine']['load_average_1_5_15']) == 3
    for net in ('depth', 'motion'):
        entry = net_result['results'][net]['64x64']
        assert set(entry['variants']) == {'eager', 'channels_last', 'onnxruntime'}
        for stats in entry['variants'].values():
            assert stats['n'] == 1 and stats['p10_ms'] > 0 and stats['median_ms'] > 0
            assert stats['max_abs_diff_vs_eager'] < 1e-3  # every optimised path computes the same function
        assert set(entry['ratio_to_eager']) == {'channels_last', 'onnxruntime'}
        assert entry['speedup_median']['eager'] == pytest.approx(1.0)
    assert len(net_result['ratios']) == 4 and {'label', 'median', 'p10', 'baseline'} <= set(net_result['ratios'][0])
    assert [a['ms'] for a in net_result['published_anchors'] if 'ms' in a] == [5.3, 6.0]
    # 64x64 is far from the anchors' sizes, so ours are pixel-scaled estimates
    assert all(row['pixel_scaled'] for row in net_result['anchor_comparison'])


def test_torchscript_runner_matches_eager(tmp_path):
    graph = net_latency.make_graph('depth', 64, 64, 'small', torch.device('cpu'))
    inputs = net_latency.make_inputs('depth', 64, 64, 1, torch.device('cpu'))
    with torch.inference_mode():
        reference = graph(*inputs)
    run = net_latency.build_runner('torchscript', graph, inputs, tmp_path, 'depth')
    assert net_latency.max_abs_diff(run(), reference) < 1e-4
    with pytest.raises(ValueError, match='needs CUDA'):
        net_latency.build_runner('bf16', graph, inputs, tmp_path, 'depth')


def test_summary_plot_from_every_result_shape(net_result, tmp_path):
    common.write_json(tmp_path / 'net_latency.json', net_result)
    common.write_json(tmp_path / 'node_latency.json', {'sizes': {'64x192': {
        'node_median_ms': 3.0, 'node_p10_ms': 2.0, 'bare_median_ms': 2.0, 'bare_p10_ms': 1.0,
        'ratio_median': 1.5, 'ratio_p10': 2.0}}})
    common.write_json(tmp_path / 'render_speed.json', {'what': 'w', 'variants': {
        'supersampled': {'median_ms': 40.0, 'p10_ms': 30.0, 'frames_per_s': 25.0},
        'plain': {'median_ms': 10.0, 'p10_ms': 10.0, 'frames_per_s': 100.0}}})
    summary = plot_summary.summarize_results(tmp_path, {'learning': {'status': 'missing'}})
    assert summary['node_latency']['rows'] == [{'label': '64x192: node / bare (2 ms)', 'median': 1.5, 'p10': 2.0}]
    assert summary['render_speed']['rows'][0]['median'] == pytest.approx(0.25)
    assert summary['render_speed']['rows'][0]['p10'] == pytest.approx(1 / 3)
    assert summary['render_speed']['throughput'] == {'supersampled frames/s': 25.0, 'plain frames/s': 100.0}
    assert len(summary['net_latency']['rows']) == 4 and summary['learning']['rows'] == []
    png = plot_summary.plot_summary(summary, tmp_path / 'summary.png')
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_run_all_commands_and_timeout(tmp_path):
    cmd = run_all.command('net_latency', True, tmp_path)
    assert cmd[1:] == ['-m', 'bench.net_latency', '--quick', '--out', str(tmp_path / 'net_latency.json')]
    assert run_all.command('no_such_benchmark', True, tmp_path) is None
    done = run_all.run_one('echo', [sys.executable, '-c', 'print("hello")'], timeout_s=60)
    assert done['status'] == 'ok' and done['output_tail'] == ['hello']
    hung = run_all.run_one('sleep', [sys.executable, '-c', 'import time; time.sleep(60)'], timeout_s=0.5)
    assert hung['status'].startswith('timeout') and hung['wall_s'] < 30


def test_common_helpers_reject_bad_input():
    with pytest.raises(ValueError, match='at least one sample'):
        common.summarize([])
    with pytest.raises(ValueError, match='rounds'):
        common.interleaved_rounds({'a': lambda: None}, rounds=0)
    order: list[str] = []
    times = common.interleaved_rounds({'a': lambda: order.append('a'), 'b': lambda: order.append('b')},
                                      rounds=2, warmup=1)
    assert order == ['a', 'b', 'b', 'a', 'a', 'b'] and [len(v) for v in times.values()] == [2, 2]
    assert common.ratio({'median_ms': 2.0, 'p10_ms': 1.0}, {'median_ms': 4.0, 'p10_ms': 4.0}) == {
        'median': 0.5, 'p10': 0.25}
    with pytest.raises(SystemExit):
        net_latency.main(['--sizes', '100x64'])  # not a multiple of 32: argparse names the size


def test_train_profile_parts_add_up(tmp_path):
    """bench.train_profile on 2 steps: every part is a non-negative share and the shares sum to the step."""
    from bench import train_profile
    out = tmp_path / 'train_profile.json'
    assert train_profile.main(['--steps', '2', '--warmup', '1', '--out', str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result['parts_s']) >= {'nets forward', 'loss forward', 'backward', 'optimiser (Adam, clip)'}
    assert all(v >= 0 for k, v in result['parts_s'].items() if not k.startswith('between'))
    assert sum(result['share'].values()) == pytest.approx(1.0)
