"""``selfdepth train`` end to end on a synthetic bag: runs, checkpoints, resumes, and fails clearly."""
from pathlib import Path

from selfdepth_ros.checkpoint import load_checkpoint
from selfdepth_ros.cli import main as selfdepth
from selfdepth_ros_training.checkpointing import list_checkpoints



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


def test_data_sources_from_the_command_line(tmp_path, sim_bag, tiny_recipe, capsys):
    import yaml
    recipe = tiny_recipe()
    data = yaml.safe_load(recipe.read_text())
    data['data']['alternate'] = {'syn': 1, 'other': 1}
    recipe.write_text(yaml.safe_dump(data))
    first, second, out = sim_bag(1, 8), sim_bag(2, 8), tmp_path / 'run'
    base = ['train', '--config', str(recipe), '--out', str(out), '--no-progress', '--max-steps', '2']
    assert selfdepth(base + ['--source', 'syn', str(first), '--source', 'other', str(second)]) == 0
    assert load_checkpoint(out / 'checkpoints' / 'step_0000002.pt')['train_config']['bags'] == [str(first), str(second)]
    capsys.readouterr()
    assert selfdepth(base + ['--bags', str(first), '--source', 'syn', str(first)]) == 2
    assert '--bags and --source exclude each other' in capsys.readouterr().err
    assert selfdepth(base + ['--source', 'syn']) == 2
    assert '--source syn: name the bags' in capsys.readouterr().err
    assert selfdepth(['train', '--config', str(recipe), '--out', str(tmp_path / 'x')]) == 2
    assert 'give --bags, or one --source NAME BAG' in capsys.readouterr().err
    assert selfdepth(base[:4] + [str(tmp_path / 'y'), '--source', 'syn', str(first)]) == 1
    assert "data.alternate names the sources ['other', 'syn'], the run was given the datasets ['syn']" in \
        capsys.readouterr().err
