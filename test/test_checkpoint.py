"""Checkpoint format: round trip, weights_only safety, atomic writes, format tag, architecture mismatch."""
import os

import pytest
import torch

from selfdepth_ros.checkpoint import (FORMAT, CheckpointError, build_models, camera_dict, load_checkpoint,
                                      save_checkpoint)
from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet

TINY = ModelConfig.small(height=64, width=64, encoder_width=8, decoder_width=4, motion_refine_width=8)


def _save(path, cfg=TINY, **extra):
    torch.manual_seed(0)
    depth_net, motion_net = DepthNet(cfg), MotionNet(cfg)
    save_checkpoint(path, model_config=cfg, depth_net=depth_net, motion_net=motion_net, **extra)
    return depth_net.eval(), motion_net.eval()


def test_round_trip_rebuilds_the_same_nets(tmp_path):
    path = tmp_path / 'a.pt'
    opt_net = torch.nn.Linear(2, 2)
    optimizer = torch.optim.Adam(opt_net.parameters(), lr=2e-4)
    opt_net(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    depth_net, motion_net = _save(path, camera=camera_dict([[100, 0, 31.5], [0, 100, 31.5], [0, 0, 1]], 64, 64),
                                  step=42, optimizer=optimizer, train_config={'lr': 2e-4},
                                  rng={'torch': torch.get_rng_state()})
    raw = torch.load(path, weights_only=True)  # the contract: plain data only
    assert raw['format'] == FORMAT and raw['step'] == 42 and raw['camera']['K'][0][0] == 100.0
    assert raw['model_config'] == TINY.to_dict() and raw['train_config'] == {'lr': 2e-4}
    ckpt = load_checkpoint(path)
    optimizer.load_state_dict(ckpt['optimizer'])  # an optimiser state survives the trip
    d2, m2 = build_models(ckpt)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(d2(x)[0], depth_net(x)[0])
        dep = depth_net(x)[0]
        torch.testing.assert_close(m2(x, dep, x, dep).translation, motion_net(x, dep, x, dep).translation)


def test_write_is_atomic_and_replaces(tmp_path):
    path = tmp_path / 'sub' / 'ckpt.pt'
    _save(path, step=1)
    _save(path, step=2)
    assert load_checkpoint(path)['step'] == 2
    assert os.listdir(path.parent) == ['ckpt.pt']  # no temporary file left behind


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.pt'
    _save(path, step=1)

    def boom(*args, **kwargs):
        raise OSError('disk full')
    monkeypatch.setattr(torch, 'save', boom)
    with pytest.raises(OSError, match='disk full'):
        _save(path, step=2)
    monkeypatch.undo()
    assert load_checkpoint(path)['step'] == 1 and os.listdir(tmp_path) == ['ckpt.pt']


class Payload:
    """A pickled object that would run code when unpickled without weights_only."""
    ran = False

    def __reduce__(self):
        return (setattr, (Payload, 'ran', True))


def test_pickled_object_is_refused_without_running_it(tmp_path):
    path = tmp_path / 'evil.pt'
    torch.save({'format': FORMAT, 'model_config': TINY.to_dict(), 'depth_net': {}, 'motion_net': {}, 'step': 0,
                'payload': Payload()}, path)
    with pytest.raises(CheckpointError, match=r'not a safe selfdepth_ros checkpoint.*could run code'):
        load_checkpoint(path)
    assert Payload.ran is False


def test_wrong_format_missing_keys_and_garbage(tmp_path):
    path = tmp_path / 'other.pt'
    torch.save({'format': 'someone/else/3', 'state_dict': {}}, path)
    with pytest.raises(CheckpointError, match=r"expected a checkpoint with format 'selfdepth_ros/ckpt/1', "
                                              r"found 'someone/else/3'"):
        load_checkpoint(path)
    torch.save({'format': FORMAT, 'model_config': {}}, path)
    with pytest.raises(CheckpointError, match=r"lacks required key\(s\) \['depth_net', 'motion_net', 'step'\]"):
        load_checkpoint(path)
    path.write_bytes(b'not a checkpoint at all')
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        load_checkpoint(tmp_path / 'missing.pt')


def test_mismatched_architecture_names_keys_and_shapes(tmp_path):
    path = tmp_path / 'a.pt'
    _save(path)
    ckpt = load_checkpoint(path)
    with pytest.raises(CheckpointError, match=r"differs from the requested one in \{'encoder_width': '8 "
                                              r"\(checkpoint\) vs 16'\}: depth_net weights do not match.*"
                                              r"encoder.bn1.bias \(8,\) vs \(16,\)"):
        build_models(ckpt, TINY.replace(encoder_width=16))
    with pytest.raises(CheckpointError, match=r"motion_net weights do not match.*missing \[foci.bias, foci.weight, "
                                              r"offsets.weight\]"):
        build_models(ckpt, TINY.replace(learn_intrinsics=True))
    ckpt['motion_net'].pop('background_motion.weight')
    with pytest.raises(CheckpointError, match=r"motion_net weights do not match.*missing \[background_motion.weight\]"):
        build_models(ckpt)


def test_config_fields_that_do_not_change_weights_may_differ(tmp_path):
    path = tmp_path / 'a.pt'
    _save(path)
    depth_net, motion_net = build_models(load_checkpoint(path), TINY.replace(motion_auto_mask=True, min_depth=0.5))
    assert motion_net.config.motion_auto_mask and depth_net.config.min_depth == 0.5


def test_modules_wrapped_like_ddp_are_unwrapped(tmp_path):
    class Wrapper(torch.nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module
    cfg = TINY
    save_checkpoint(tmp_path / 'w.pt', model_config=cfg, depth_net=Wrapper(DepthNet(cfg)),
                    motion_net=Wrapper(MotionNet(cfg)))
    assert not any(k.startswith('module.') for k in load_checkpoint(tmp_path / 'w.pt')['depth_net'])
    build_models(load_checkpoint(tmp_path / 'w.pt'))


def test_bad_camera_is_named():
    with pytest.raises(ValueError, match='camera K must be a finite 3×3 matrix'):
        camera_dict([[1, 0], [0, 1]], 64, 64)


# -- integrity: content hash, finite weights, field types, file modes (issue 12) ---------------------------------
def _largest_tensor_offset(path, ckpt):
    """Byte offset in the file of the largest depth_net tensor's data (torch's zip stores tensors uncompressed)."""
    name, t = max(ckpt['depth_net'].items(), key=lambda kv: kv[1].numel())
    data = path.read_bytes()
    head = t.reshape(-1)[:16].numpy().tobytes()
    offset = data.find(head)
    assert offset > 0, name
    return name, offset, t.numel() * t.element_size()


def test_a_flipped_byte_inside_a_tensor_is_refused(tmp_path):
    path = tmp_path / 'a.pt'
    _save(path)
    raw = torch.load(path, weights_only=True)
    assert len(raw['weights_sha256']) == 64
    name, offset, size = _largest_tensor_offset(path, raw)
    data = bytearray(path.read_bytes())
    for i in range(offset + size // 2, offset + size // 2 + 200):  # 200 bytes flipped inside the tensor
        data[i] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r'a.pt: the weights do not match the checkpoint\'s content hash.*'
                                              r'damaged or altered'):
        load_checkpoint(path)


def test_edited_weights_with_the_old_hash_are_refused(tmp_path):
    path = tmp_path / 'a.pt'
    _save(path)
    raw = torch.load(path, weights_only=True)
    raw['motion_net']['background_motion.weight'] += 1e-3
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match='content hash'):
        load_checkpoint(path)


def test_checkpoints_without_a_hash_load_quietly_and_the_shipped_one_loads(tmp_path):
    import warnings
    from selfdepth_ros.checkpoint import SHIPPED_PATH
    path = tmp_path / 'old.pt'
    _save(path)
    raw = torch.load(path, weights_only=True)
    del raw['weights_sha256']
    torch.save(raw, path)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert 'weights_sha256' not in load_checkpoint(path)
        shipped = load_checkpoint(SHIPPED_PATH)  # with or without a hash, it loads
    build_models(shipped)


def test_non_finite_weights_are_refused_naming_the_tensor(tmp_path):
    cfg = TINY
    depth_net, motion_net = DepthNet(cfg), MotionNet(cfg)
    key = next(k for k, v in depth_net.state_dict().items() if v.is_floating_point() and v.numel() > 4)
    with torch.no_grad():
        depth_net.state_dict()[key].view(-1)[3] = float('nan')
        motion_net.state_dict()['background_motion.weight'].view(-1)[0] = float('inf')
    save_checkpoint(tmp_path / 'nan.pt', model_config=cfg, depth_net=depth_net, motion_net=motion_net)
    with pytest.raises(CheckpointError, match=rf'nan.pt: depth_net\.{key} has 1 non-finite value\(s\) \(NaN/Inf\)'):
        load_checkpoint(tmp_path / 'nan.pt')


@pytest.mark.parametrize('field, value, message', [
    ('model_config', [1, 2], r'model_config must be a dict \(ModelConfig.to_dict\(\)\), got list'),
    ('model_config', {'encoder_width': 16, 'nope': 1}, r"model_config is not a valid ModelConfig: unknown.*'nope'"),
    ('depth_net', [torch.zeros(1)], r'depth_net must be a state dict \(name -> tensor\), got list'),
    ('motion_net', {'background_motion.weight': [0.0, 1.0]}, r"motion_net must map names to tensors; not tensors: "
                                                               r"'background_motion.weight' \(list\)"),
    ('camera', {'K': [[100, 0, 31.5], [0, 100, 31.5], [0, 0, 1]], 'width': 0, 'height': 64},
     r'invalid camera: camera width must be a positive integer \(pixels\), got 0'),
    ('camera', {'K': [[0, 0, 31.5], [0, 100, 31.5], [0, 0, 1]], 'width': 64, 'height': 64},
     r'invalid camera: camera K must have fx, fy > 0'),
    ('camera', 'pinhole', r'camera must be None or a dict with K, width, height'),
    ('step', 'seven', r"step must be an integer >= 0, got 'seven'"),
    ('train_config', 'fast', r'train_config must be None or a dict, got str'),
])
def test_crafted_fields_give_clear_errors(tmp_path, field, value, message):
    path = tmp_path / 'crafted.pt'
    _save(path)
    raw = torch.load(path, weights_only=True)
    raw[field] = value
    del raw['weights_sha256']  # crafted by hand, as an older file would be
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match='crafted.pt: ' + message):
        load_checkpoint(path)


@pytest.mark.parametrize('umask, mode', [(0o022, 0o644), (0o002, 0o664)])
def test_checkpoints_get_normal_file_modes(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        _save(tmp_path / 'a.pt')
    finally:
        os.umask(old)
    assert (tmp_path / 'a.pt').stat().st_mode & 0o777 == mode
    assert os.listdir(tmp_path) == ['a.pt']
