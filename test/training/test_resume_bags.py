"""``selfdepth train --resume`` on other bags than the run was trained on is refused in one line naming both sets,
unless ``--allow-other-bags`` (issue 12); the same bags spelled another way resume as before."""
import os

from selfdepth_ros.checkpoint import load_checkpoint
from selfdepth_ros.cli import main as selfdepth
from selfdepth_ros_training.checkpointing import list_checkpoints


def test_resume_on_other_bags_is_refused_unless_allowed(tmp_path, sim_bag, tiny_recipe, capsys):
    bag, other, recipe, out = sim_bag(1, 8), sim_bag(2, 8), tiny_recipe(), tmp_path / 'run'
    base = ['train', '--config', str(recipe), '--out', str(out), '--no-progress']
    assert selfdepth(base + ['--bags', str(bag), '--max-steps', '2']) == 0
    capsys.readouterr()

    for bags, what in (([str(other)], 'other bags'), ([str(bag), str(other)], 'other bags'),
                       ([str(other), str(bag)], 'other bags')):
        assert selfdepth(base + ['--bags', *bags, '--max-steps', '3', '--resume']) == 2
        err = capsys.readouterr().err.strip()
        assert err.count('\n') == 0 and 'Traceback' not in err
        assert f'was trained on --bags {bag}, this run gives {what}: {" ".join(bags)}' in err
        assert '--allow-other-bags' in err
        assert [s for s, _ in list_checkpoints(out)] == [2]  # nothing trained, nothing written

    assert selfdepth(base + ['--bags', str(bag), '--max-steps', '3', '--allow-other-bags']) == 2
    assert '--allow-other-bags applies only with --resume' in capsys.readouterr().err

    assert selfdepth(base + ['--bags', str(other), '--max-steps', '3', '--resume', '--allow-other-bags']) == 0
    assert f'--allow-other-bags: resuming on {other}' in capsys.readouterr().out
    assert load_checkpoint(out / 'checkpoints' / 'step_0000003.pt')['train_config']['bags'] == [str(other)]


def test_resume_on_the_same_bags_in_another_order_or_spelling(tmp_path, sim_bag, tiny_recipe, capsys, monkeypatch):
    a, b, recipe, out = sim_bag(1, 8), sim_bag(2, 8), tiny_recipe(), tmp_path / 'run'
    base = ['train', '--config', str(recipe), '--out', str(out), '--no-progress']
    assert selfdepth(base + ['--bags', str(a), str(b), '--max-steps', '2']) == 0
    assert selfdepth(base + ['--bags', str(b), str(a), '--max-steps', '3', '--resume']) == 2
    assert 'this run gives the same bags in another order' in capsys.readouterr().err
    monkeypatch.chdir(a.parent)  # relative and with a trailing slash: the same bags
    relative = [os.path.relpath(a) + '/', './' + os.path.relpath(b)]
    assert selfdepth(base + ['--bags', *relative, '--max-steps', '3', '--resume']) == 0
    assert [s for s, _ in list_checkpoints(out)][-1] == 3
