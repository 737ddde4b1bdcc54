"""Smoke test of `bench.node_latency --backends` (issue 15): one node per backend over DDS, interleaved rounds, the
JSON the board reads (ratios to the torch node with p10 and median); structure only, never a timing."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip('rclpy')
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench import node_latency, plot_summary  # noqa: E402


@pytest.mark.ros
def test_node_backends_json(tmp_path):
    out = tmp_path / 'node_backends.json'
    assert node_latency.main(['--backends', 'torchscript', 'onnxruntime', '--preset', 'small', '--sizes', '64x192',
                              '--rounds', '2', '--out', str(out)]) == 0
    result = json.loads(out.read_text())
    assert result['benchmark'] == 'node_backends' and list(result['backends']) == ['torch', 'torchscript',
                                                                                   'onnxruntime']
    assert all(v['backend'] == k for k, v in result['backends'].items())  # none fell back
    entry = result['sizes']['64x192']
    for b in ('torch', 'torchscript', 'onnxruntime'):
        assert entry[b]['n'] == 2 and 0 < entry[b]['node']['p10_ms'] <= entry[b]['node']['median_ms']
    assert {r['label'] for r in result['ratios']} == {
        f'64x192 {what} {b} ({b})' for what in ('node', 'own_predict') for b in ('torchscript', 'onnxruntime')}
    assert all(r['median'] > 0 and r['p10'] > 0 and r['baseline'].startswith('torch ') for r in result['ratios'])
    assert len(plot_summary.panel_rows(result)) == 4
