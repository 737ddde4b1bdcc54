"""Fine-tuning: ``--init`` a checkpoint and train on a new drive; the loss on that drive goes down."""
import pytest
import yaml

from selfdepth_ros.cli import main as selfdepth
from selfdepth_ros_training.data import build_dataset
from selfdepth_ros_training.config import load_config
from selfdepth_ros_training.trainer import RunOptions, Trainer


@pytest.mark.slow
def test_init_fine_tuning_lowers_the_loss_on_a_new_drive(tmp_path, sim_bag, tiny_recipe):
    recipe = tiny_recipe()
    first = tmp_path / 'deployed'
    assert selfdepth(['train', '--config', str(recipe), '--bags', str(sim_bag(1, 8)), '--out', str(first),
                      '--max-steps', '2', '--no-progress']) == 0
    deployed = first / 'checkpoints' / 'step_0000002.pt'

    cfg = load_config(recipe, {'optim': {'lr': 1e-3}, 'log': {'progress_bar': False}})
    new_drive = build_dataset(cfg, [str(sim_bag(2, 10))])
    tuner = Trainer(cfg, new_drive, RunOptions(out=tmp_path / 'tuned', init=str(deployed), max_steps=12))
    before = tuner.mean_loss(batches=4)
    tuner.fit()
    after = tuner.mean_loss(batches=4)
    assert after < 0.9 * before, (before, after)
    assert yaml.safe_load((tmp_path / 'tuned' / 'config.yaml').read_text())['optim']['lr'] == 1e-3
