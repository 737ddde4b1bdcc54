"""``selfdepth train`` end to end on a synthetic bag: runs, checkpoints, resumes, and fails clearly."""
from pathlib import Path

from selfdepth_ros.checkpoint import load_checkpoint
from selfdepth_ros.cli import main as selfdepth
from training.checkpointing import list_checkpoints



def test_train_then_resume_from_the_command_line(tmp_path, sim_bag, tiny_recipe, capsys):
    bag, recipe, out = sim_bag(1, 8), tiny_recipe(), tmp_path / 'run'
    args = ['train', '--config', str(recipe), '--bags', str(bag), '--out', str(out), '--no-progress']
    assert selfdepth(args + ['--max-steps', '2']) == 0
    assert [s for s, _ in list_checkpoints(out)] == [2]
    assert (out / 'images' / 'step_0000002.png').exists() and (out / 'metrics.csv').exists()
    assert selfdepth(args + ['--max-steps', '3', '--resume']) == 0
    ckpt = load_checkpoint(out / 'checkpoints' / 'step_0000003.pt')
    assert ckpt['step'] == 3 and ckpt['camera']['width'] == 64
    assert ckpt['train_config']['bags'] == [str(bag)]
    assert 'resuming from' in capsys.readouterr().out


def test_command_line_errors_are_clear(tmp_path, sim_bag, tiny_recipe, capsys):
    bag, out = sim_bag(1, 8), tmp_path / 'run'
    bad = tmp_path / 'bad.yaml'
    bad.write_text('method: dynamic_scenes\noptim: {lrr: 1.0e-3}\n')
    assert selfdepth(['train', '--config', str(bad), '--bags', str(bag), '--out', str(out)]) == 2
    assert "optim: unknown key 'lrr'; valid keys: lr, beta1" in capsys.readouterr().err
    recipe = tiny_recipe()
    assert selfdepth(['train', '--config', str(recipe), '--bags', str(bag), '--out', str(out), '--resume',
                      '--init', 'x.pt']) == 2
    assert 'exclude each other' in capsys.readouterr().err
    assert selfdepth(['train', '--config', str(recipe), '--bags', str(bag), '--out', str(out),
                      '--init', str(tmp_path / 'missing.pt')]) == 1
    assert 'checkpoint not found' in capsys.readouterr().err
    evil = tmp_path / 'evil.pt'
    import torch
    torch.save({'format': 'selfdepth_ros/ckpt/1', 'payload': Path('/')}, evil)  # a pickled object
    assert selfdepth(['train', '--config', str(recipe), '--bags', str(bag), '--out', str(out),
                      '--init', str(evil)]) == 2  # a refused checkpoint is bad input: exit 2, like eval/export
    assert 'refused (weights_only=true)' in capsys.readouterr().err.lower()
