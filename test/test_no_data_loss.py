"""Nothing overwrites or deletes what it did not create without an explicit flag: `train --out` an existing run,
`export --out` the checkpoint (or another file), `eval --json/--report` over foreign files, `demo --out` a folder
holding someone's report. Each refusal is one line naming the way out (--resume / --force / another path)."""
import json
from pathlib import Path

import pytest
import torch
import yaml

from selfdepth_ros.checkpoint import load_checkpoint, save_checkpoint
from selfdepth_ros.cli import main as selfdepth
from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet

ROOT = Path(__file__).resolve().parents[1]
TINY = ModelConfig.small(height=64, width=64, encoder_width=8, decoder_width=4, motion_refine_width=8)


@pytest.fixture(scope='module')
def bag(tiny_drive):
    return tiny_drive


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('ckpt') / 'tiny.pt'
    return save_checkpoint(path, model_config=TINY, depth_net=DepthNet(TINY), motion_net=MotionNet(TINY), step=7)


def _refused(capsys, *needles) -> str:
    err = capsys.readouterr().err
    assert 'Traceback' not in err and len(err.strip().splitlines()) == 1, err
    assert all(n in err for n in needles), err
    return err


def test_train_refuses_an_existing_run_and_force_starts_it_over(bag, tmp_path, capsys):
    recipe = yaml.safe_load((ROOT / 'config/train/dynamic_scenes_small.yaml').read_text())
    recipe['model'].update(encoder_width=8, decoder_width=4, motion_refine_width=4)
    recipe['data'].update(height=64, width=64, batch_size=2)
    recipe['log'].update(every=1, image_every=0)
    (tmp_path / 'r.yaml').write_text(yaml.safe_dump(recipe))
    run = tmp_path / 'run'
    (run / 'checkpoints').mkdir(parents=True)
    torch.save({'old': torch.zeros(1)}, run / 'checkpoints' / 'step_0000500.pt')  # a longer, earlier run
    (run / 'metrics.csv').write_text('step,loss/total\n500,0.1\n')
    (run / 'notes.txt').write_text('mine')
    argv = ['train', '--config', str(tmp_path / 'r.yaml'), '--bags', str(bag), '--out', str(run), '--no-progress',
            '--device', 'cpu', '--max-steps', '1']
    assert selfdepth(argv) == 2
    _refused(capsys, 'already holds a run', 'step 500', 'metrics.csv', '--resume', '--force')
    assert (run / 'metrics.csv').read_text() == 'step,loss/total\n500,0.1\n'
    assert (run / 'checkpoints' / 'step_0000500.pt').is_file()
    assert selfdepth(argv + ['--force', '--resume']) == 2
    _refused(capsys, 'exclude each other')
    assert selfdepth(argv + ['--force']) == 0
    assert sorted(p.name for p in (run / 'checkpoints').glob('*.pt')) == ['step_0000001.pt']  # kept, not pruned
    assert load_checkpoint(run / 'checkpoints' / 'step_0000001.pt')['step'] == 1
    assert '500' not in (run / 'metrics.csv').read_text() and (run / 'notes.txt').read_text() == 'mine'


def test_export_never_replaces_the_checkpoint_and_other_files_only_with_force(ckpt, tmp_path, capsys):
    before = ckpt.read_bytes()
    for extra in ([], ['--force']):
        assert selfdepth(['export', '--checkpoint', str(ckpt), '--format', 'torchscript', '--what', 'depth',
                          '--out', str(ckpt)] + extra) == 2
        _refused(capsys, 'is the checkpoint itself')
    assert ckpt.read_bytes() == before
    other = tmp_path / 'depth.pt'
    other.write_text('somebody else\'s file')
    argv = ['export', '--checkpoint', str(ckpt), '--format', 'torchscript', '--what', 'depth', '--out', str(other)]
    assert selfdepth(argv) == 2
    _refused(capsys, f'refusing to overwrite {other}', '--force')
    assert other.read_text() == 'somebody else\'s file'
    assert selfdepth(argv + ['--force']) == 0
    assert other.read_bytes()[:2] == b'PK' and ckpt.read_bytes() == before  # a TorchScript archive now


def test_eval_outputs_overwrite_only_what_eval_wrote(bag, ckpt, tmp_path, capsys):
    base = ['eval', '--checkpoint', str(ckpt), '--bag', str(bag), '--device', 'cpu', '--max-frames', '3',
            '--report-frames', '1']
    metadata = bag / 'metadata.yaml'  # `--json bag/metadata.yaml` once made a bag unreadable
    original = metadata.read_text()
    assert selfdepth(base + ['--json', str(metadata)]) == 2
    _refused(capsys, f'--json {metadata} exists and is not an earlier selfdepth eval output', '--force')
    assert metadata.read_text() == original
    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'thesis.tex').write_text('mine')
    assert selfdepth(base + ['--report', str(mine)]) == 2
    _refused(capsys, 'thesis.tex', 'refusing to write into it')
    assert sorted(p.name for p in mine.iterdir()) == ['thesis.tex']
    # outputs of an earlier eval are replaced (same JSON, same report folder)
    js, report = tmp_path / 'm.json', tmp_path / 'report'
    for _ in range(2):
        assert selfdepth(base + ['--json', str(js), '--report', str(report)]) == 0
        capsys.readouterr()
    assert json.loads(js.read_text())['source']['mode'] == 'checkpoint' and (report / 'index.html').is_file()
    assert (report / '.selfdepth-report').is_file()
    (report / 'added_by_me.txt').write_text('mine')
    assert selfdepth(base + ['--report', str(report)]) == 2
    _refused(capsys, 'added_by_me.txt')
    assert selfdepth(base + ['--report', str(mine), '--force']) == 0
    assert (mine / 'thesis.tex').read_text() == 'mine' and (mine / 'index.html').is_file()


def test_demo_does_not_replace_a_report_it_did_not_write(tmp_path, capsys):
    out = tmp_path / 'out'
    (out / 'report').mkdir(parents=True)
    (out / 'report' / 'index.html').write_text('my own report')
    assert selfdepth(['demo', '--out', str(out), '--frames', '2', '--no-browser-check']) == 2
    _refused(capsys, 'which no selfdepth demo wrote', '--force')
    assert (out / 'report' / 'index.html').read_text() == 'my own report'
    assert sorted(p.name for p in out.iterdir()) == ['report']
