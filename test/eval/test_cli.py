"""``selfdepth eval`` end to end: a real (untrained, tiny) checkpoint over a GT bag, and a recorded output bag."""
import json

import pytest

from selfdepth_ros.eval.cli import main

KEYS = {'depth', 'depth_static', 'depth_dynamic', 'trajectory', 'motion_field', 'latency_ms'}


def test_eval_checkpoint_writes_json_and_report(gt_bag, tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / 'm.json'
    rc = main(['--checkpoint', str(tiny_checkpoint), '--bag', str(gt_bag), '--json', str(out), '--report',
               str(tmp_path / 'report'), '--max-frames', '6', '--device', 'cpu'])
    assert rc == 0
    metrics = json.loads(out.read_text())
    assert KEYS <= set(metrics) and all(metrics[k] is not None for k in KEYS)
    assert metrics['frames'] == 6 and metrics['source']['mode'] == 'checkpoint'
    assert metrics['motion_field']['frames'] == 5 and metrics['trajectory']['ate']['poses'] == 6
    assert (tmp_path / 'report' / 'index.html').is_file()
    printed = capsys.readouterr().out
    assert 'abs_rel' in printed and 'report:' in printed


def test_eval_recorded_bag(gt_bag, pred_bag, tmp_path):
    out = tmp_path / 'm.json'
    assert main(['--pred-bag', str(pred_bag), '--bag', str(gt_bag), '--json', str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics['depth']['abs_rel'] == pytest.approx(0, abs=1e-6)
    assert metrics['source']['without_prediction'] == 1 and metrics['latency_ms']['p50'] == pytest.approx(30.0)


def test_eval_metric_flag_and_disabled_mask(gt_bag, pred_bag, tmp_path):
    out = tmp_path / 'm.json'
    assert main(['--pred-bag', str(pred_bag), '--bag', str(gt_bag), '--json', str(out), '--metric',
                 '--gt-mask-topic', 'none']) == 0
    metrics = json.loads(out.read_text())
    assert metrics['config']['median_scaling'] is False and metrics['trajectory']['alignment'] == 'se3'
    assert metrics['depth_static'] is None and metrics['depth_dynamic'] is None


def test_eval_errors(gt_bag, tmp_path, capsys):
    assert main(['--pred-bag', str(tmp_path / 'nope'), '--bag', str(gt_bag)]) == 1
    assert 'selfdepth eval:' in capsys.readouterr().err
    assert main(['--pred-bag', str(gt_bag), '--bag', str(gt_bag), '--max-frames', '0']) == 2
    with pytest.raises(SystemExit):
        main(['--bag', str(gt_bag)])  # neither --checkpoint nor --pred-bag
