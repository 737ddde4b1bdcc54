"""`selfdepth demo` end to end at a tiny size (render → replay over DDS → eval + report → browser check), and
its model choice (shipped checkpoint, else an untrained network with a loud warning)."""
import json

import pytest

from selfdepth_ros import demo


def _save_small_checkpoint(path, camera=None):
    from selfdepth_ros.checkpoint import camera_dict, save_checkpoint
    from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet
    cfg = ModelConfig.small()
    cam = None if camera is None else camera_dict([[100.0, 0, 95.5], [0, 100.0, 31.5], [0, 0, 1]], *camera)
    return save_checkpoint(path, model_config=cfg, depth_net=DepthNet(cfg), motion_net=MotionNet(cfg), camera=cam)


def test_model_choice_shipped_requested_or_untrained(tmp_path):
    missing = tmp_path / 'selfdepth_small.pt'
    choice = demo.choose_model(None, shipped=missing)
    assert choice.checkpoint is None and choice.size == demo.DEFAULT_SIZE and str(missing) in choice.reason
    assert 'UNTRAINED' in demo.untrained_warning(choice)
    with pytest.raises(FileNotFoundError, match='--checkpoint'):
        demo.choose_model(tmp_path / 'typo.pt', shipped=missing)
    shipped = _save_small_checkpoint(tmp_path / 'shipped.pt', camera=(192, 64))
    assert demo.choose_model(None, shipped=shipped).size == (192, 64)          # the camera it was trained on
    assert demo.choose_model(None, shipped=shipped).checkpoint == shipped
    plain = _save_small_checkpoint(tmp_path / 'plain.pt')
    assert demo.choose_model(plain, shipped=missing).size == demo.DEFAULT_SIZE


def test_clear_outputs_removes_only_the_demo_outputs(tmp_path):
    (tmp_path / demo.MANIFEST).write_text('\n'.join(demo.OUTPUTS))  # a previous demo wrote these
    (tmp_path / 'drive_bag').mkdir()
    (tmp_path / 'drive_bag' / 'x.mcap').write_text('old')
    (tmp_path / 'metrics.json').write_text('{}')
    (tmp_path / 'notes.txt').write_text('keep me')
    demo.clear_outputs(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [demo.MANIFEST, 'notes.txt']


def test_clear_outputs_never_deletes_what_no_demo_wrote(tmp_path):
    (tmp_path / 'report').mkdir()
    (tmp_path / 'report' / 'my_notes.html').write_text('mine')
    (tmp_path / 'metrics.json').write_text('{"mine": 1}')
    with pytest.raises(demo.OutputsInTheWay, match='report, metrics.json.*--force'):
        demo.clear_outputs(tmp_path)
    assert (tmp_path / 'report' / 'my_notes.html').read_text() == 'mine'
    assert (tmp_path / 'metrics.json').read_text() == '{"mine": 1}' and not (tmp_path / demo.MANIFEST).exists()
    demo.clear_outputs(tmp_path, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [demo.MANIFEST]


def test_headline_lines_say_n_a_for_missing_metrics():
    lines = demo.headline_lines({'depth': {'abs_rel': 0.1234, 'a1': 0.9}, 'depth_static': None, 'frames': 3})
    assert 'all 0.1234' in lines[0] and 'static n/a' in lines[0] and 'ATE              n/a' in lines[3]
    assert lines[1].startswith('  constant depth all n/a') and 'snippet ATE n/a' in lines[4]  # baselines beside it


@pytest.mark.ros
def test_tiny_demo_runs_every_stage_and_prints_the_metrics(tmp_path, capsys):
    out = tmp_path / 'demo_out'
    (out / 'report').mkdir(parents=True)
    (out / 'report' / 'stale.png').write_text('from a previous demo')
    (out / demo.MANIFEST).write_text('report\n')
    (out / 'mine.txt').write_text('not the demo\'s')
    assert demo.main(['--frames', '4', '--width', '128', '--height', '48', '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    for n in range(1, demo.STAGES + 1):
        assert f'[{n}/{demo.STAGES}]' in printed
    report = out / 'report' / 'index.html'
    assert f'report:  {report}' in printed and report.is_file()
    assert not (out / 'report' / 'stale.png').exists()                   # the previous demo's outputs are gone
    assert (out / 'mine.txt').read_text() == "not the demo's"             # anything else stays
    assert 'frames sent 4, received 4, dropped 0' in printed
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['depth']['abs_rel'] > 0 and metrics['source']['mode'] == 'recorded'
    assert f"all {metrics['depth']['abs_rel']:.4f}" in printed and 'latency          p50' in printed
    if not demo.SHIPPED_CHECKPOINT.is_file():
        assert 'UNTRAINED' in printed
