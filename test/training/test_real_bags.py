"""Training from any bag: topic choice (CompressedImage too), bags without CameraInfo fine-tuning the shipped
model, mixed bags, and the --init checks."""
import numpy as np
import pytest
import torch
import yaml

from selfdepth_ros.bag.testing import write_toy_drive
from selfdepth_ros.bag.writer import BagWriter
from selfdepth_ros.checkpoint import INTRINSICS_HEAD, SHIPPED_PATH, load_checkpoint
from selfdepth_ros.cli import main as selfdepth
from selfdepth_ros_training.cli import _overrides, build_parser
from selfdepth_ros_training.data import build_dataset
from selfdepth_ros_training.config import config_from_dict, load_config
from selfdepth_ros_training.data.dataset import BagFramesDataset
from selfdepth_ros_training.trainer import RunOptions, Trainer

ROOT = SHIPPED_PATH.parents[2]
SMALL = ROOT / 'config/train/dynamic_scenes_small.yaml'  # the shipped model's recipe (64×192)
W, H = 192, 64
K_MAIN = np.array([[150.0, 0, 95.5], [0, 150.0, 31.5], [0, 0, 1]])
SIDE = ['--image-topic', '/side/image/compressed', '--camera-info-topic', '/side/camera_info']


def _texture(seed, n, shift):
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(H // 4 + 1, (W + n * shift) // 4 + 1, 3), dtype=np.uint8)
    tex = np.kron(coarse, np.ones((4, 4, 1), np.uint8))[:H]
    return np.stack([tex[:, i * shift:i * shift + W] for i in range(n)])


@pytest.fixture(scope='module')
def two_cameras(tmp_path_factory):
    """A bag with a raw camera with CameraInfo (/camera/...) and a jpeg camera without it (/side/...)."""
    path = tmp_path_factory.mktemp('bags') / 'two_cameras'
    main, side = _texture(1, 9, 3), _texture(2, 9, 5)
    with BagWriter(path) as bag:
        for i in range(len(main)):
            stamp = 1_000_000_000 + 100_000_000 * i
            bag.write_image('/camera/image_raw', main[i], 'rgb8', stamp, 'cam')
            bag.write_camera_info('/camera/camera_info', K_MAIN, W, H, stamp, 'cam')
            bag.write_compressed_image('/side/image/compressed', side[i], 'jpeg', stamp, 'side')
    return path, main, side


def _recipe(tmp_path, **data):
    recipe = yaml.safe_load(SMALL.read_text())
    recipe['data'].update(batch_size=2, **data)
    recipe['log'].update(every=1, image_every=0)
    path = tmp_path / 'small.yaml'
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_topic_flags_pick_another_topic_and_a_missing_topic_is_one_clear_line(two_cameras, tmp_path, capsys):
    path, main, side = two_cameras
    args = build_parser().parse_args(['--config', 'x', '--bags', 'b', '--out', 'o', *SIDE])
    cfg = load_config(SMALL, _overrides(args))
    assert (cfg.data.image_topic, cfg.data.camera_info_topic) == ('/side/image/compressed', '/side/camera_info')
    ds = build_dataset(cfg, [str(path)])
    item = ds[0]
    got = item['images'][0].permute(1, 2, 0).numpy() * 255
    assert np.abs(got - side[0]).mean() < 25 < np.abs(got - main[0]).mean()  # the jpeg side camera, decoded
    assert not bool(item['has_intrinsics']) and ds.bag_has_intrinsics == [False]
    assert BagFramesDataset(path, (W, H), min_motion=0).bag_has_intrinsics == [True]
    assert BagFramesDataset(path, (W, H), min_motion=0, camera_info_topic='').bag_has_intrinsics == [False]
    assert config_from_dict({'data': {'camera_info_topic': None}}).data.camera_info_topic is None  # YAML null

    capsys.readouterr()
    rc = selfdepth(['train', '--config', str(SMALL), '--bags', str(path), '--out', str(tmp_path / 'r'),
                    '--image-topic', '/front/image_raw', '--no-progress'])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and 'Traceback' not in err, err
    assert "missing topic '/front/image_raw'" in err and '/camera/image_raw (sensor_msgs/msg/Image, 9)' in err
    assert '/side/image/compressed (sensor_msgs/msg/CompressedImage, 9)' in err


def _headless(tmp_path):
    """The shipped model without its intrinsics head (as every model trained with CameraInfo is)."""
    ckpt = load_checkpoint(SHIPPED_PATH)
    ckpt['motion_net'] = {k: v for k, v in ckpt['motion_net'].items() if k not in INTRINSICS_HEAD}
    ckpt['model_config'] = {**ckpt['model_config'], 'learn_intrinsics': False}
    ckpt.pop('weights_sha256', None)
    path = tmp_path / 'headless.pt'
    torch.save(ckpt, path)
    return path


def test_shipped_model_fine_tunes_on_a_bag_without_camera_info(two_cameras, tmp_path):
    assert selfdepth(['train', '--config', str(_recipe(tmp_path)), '--bags', str(two_cameras[0]), '--out',
                      str(tmp_path / 'ft'), *SIDE, '--init', str(SHIPPED_PATH), '--max-steps', '2',
                      '--no-progress']) == 0
    assert load_checkpoint(tmp_path / 'ft' / 'checkpoints' / 'step_0000002.pt')['model_config']['learn_intrinsics']


def test_bag_without_camera_info_fine_tunes_a_model_without_head_and_keeps_its_head(two_cameras, tmp_path, capsys):
    path = two_cameras[0]
    out = tmp_path / 'ft'
    recipe = _recipe(tmp_path)
    headless = _headless(tmp_path)
    assert selfdepth(['train', '--config', str(recipe), '--bags', str(path), '--out', str(out), *SIDE,
                      '--init', str(headless), '--max-steps', '2', '--no-progress']) == 0
    printed = capsys.readouterr().out
    assert 'the bags have no CameraInfo: learning intrinsics' in printed
    assert 'has no intrinsics head: added a freshly initialised one' in printed
    tuned = load_checkpoint(out / 'checkpoints' / 'step_0000002.pt')
    assert tuned['model_config']['learn_intrinsics'] and all(k in tuned['motion_net'] for k in INTRINSICS_HEAD)
    assert tuned['camera'] == tuned['train_config']['learned_camera'] and tuned['camera']['width'] == W
    K = torch.tensor(tuned['camera']['K'])
    assert K[0, 0] > 0 and K[1, 1] > 0 and K[2, 2] == 1

    # every weight but the new head comes from the shipped model
    cfg = load_config(recipe, {'data': {'image_topic': SIDE[1], 'camera_info_topic': SIDE[3]},
                               'log': {'progress_bar': False}})
    side_data = build_dataset(cfg, [str(path)], verbose=False)
    fresh = Trainer(cfg, side_data, RunOptions(out=tmp_path / 'x', init=str(headless)))
    shipped = load_checkpoint(headless)
    assert all(torch.equal(v, shipped['depth_net'][k]) for k, v in fresh.depth_net.state_dict().items())
    motion = fresh.motion_net.state_dict()
    assert all(torch.equal(motion[k], v) for k, v in shipped['motion_net'].items())

    # a checkpoint with a head, fine-tuned on a camera with CameraInfo: loads, the head is kept and unused
    main_cfg = load_config(recipe, {'log': {'progress_bar': False}})
    again = Trainer(main_cfg, build_dataset(main_cfg, [str(path)], verbose=False),
                    RunOptions(out=tmp_path / 'cam', init=str(out / 'checkpoints' / 'step_0000002.pt'), max_steps=1))
    assert 'kept, unused (every bag has CameraInfo)' in capsys.readouterr().out
    assert again.model_config.learn_intrinsics and again.camera['K'][0][0] == pytest.approx(150.0)
    again.fit()
    assert torch.equal(again.motion_net.foci.weight.cpu(), tuned['motion_net']['foci.weight'])
    assert load_checkpoint(tmp_path / 'cam' / 'checkpoints' / 'step_0000001.pt')['train_config']['learned_camera'] is None


def test_mixed_bags_train_and_only_camera_info_less_samples_move_the_learned_camera(
        two_cameras, tmp_path, tiny_recipe, capsys):
    write_toy_drive(tmp_path / 'nocam', shifts=[4] * 12, size=(W, H), camera_info=False, gt=False)
    cfg = load_config(tiny_recipe(), {'log': {'progress_bar': False}})
    data = build_dataset(cfg, [str(two_cameras[0]), str(tmp_path / 'nocam')], verbose=False)
    assert data.bag_has_intrinsics == [True, False]
    trainer = Trainer(cfg, data, RunOptions(out=tmp_path / 'mixed', max_steps=2))
    assert '1 of 2 bags have no CameraInfo' in capsys.readouterr().out and trainer.model_config.learn_intrinsics
    trainer.fit()
    ckpt = load_checkpoint(tmp_path / 'mixed' / 'checkpoints' / 'step_0000002.pt')
    sx, sy = 64 / W, 64 / H  # the given camera, scaled to the net's 64×64, stays the checkpoint's camera
    np.testing.assert_allclose(ckpt['camera']['K'], [[150 * sx, 0, 96 * sx - 0.5], [0, 150 * sy, 32 * sy - 0.5],
                                                     [0, 0, 1]], rtol=1e-6)
    assert ckpt['train_config']['learned_camera'] is not None  # the seed's batches include the toy drive
    assert ckpt['train_config']['learned_camera'] != ckpt['camera']

    # the EMA: rows with CameraInfo are ignored, flipped rows have their cx mirrored back
    learned, given = torch.tensor([[50.0, 0, 20], [0, 40, 30], [0, 0, 1]]), torch.eye(3) * 1000
    flip = next(i for i in range(100) if trainer.dataset.flipped(i))
    keep = next(i for i in range(100) if not trainer.dataset.flipped(i))
    trainer.learned_camera = None
    trainer._track_learned_camera(torch.stack([given, learned]), 64, 64,
                                  {'has_intrinsics': torch.tensor([True, False]), 'index': torch.tensor([keep, keep])})
    assert trainer.learned_camera['K'] == learned.tolist()
    trainer._track_learned_camera(torch.stack([learned, given]), 64, 64,
                                  {'has_intrinsics': torch.tensor([False, True]), 'index': torch.tensor([flip, keep])})
    assert trainer.learned_camera['K'][0][2] == pytest.approx(0.99 * 20 + 0.01 * (63 - 20))


def test_init_at_another_input_size_is_refused_before_reading_the_bags(two_cameras, tiny_recipe, tmp_path, capsys):
    rc = selfdepth(['train', '--config', str(tiny_recipe()), '--bags', str(tmp_path / 'no_such_bag'),
                    '--out', str(tmp_path / 'r'), '--init', 'shipped'])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert 'was trained at 64x192 (HxW), the recipe trains at 64x64' in err
    assert 'set data.height: 64 and data.width: 192' in err
