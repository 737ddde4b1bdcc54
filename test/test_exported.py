"""Exported files loaded directly (issue 15): the Predictor and `selfdepth eval` run an ONNX or TorchScript export
with the metadata its sidecars carry (net size, camera, frame interval), parity-checked at load against the eager
outputs the export recorded; broken exports are refused with one line."""
import json
import shutil

import numpy as np
import pytest
import torch

from selfdepth_ros.checkpoint import camera_dict, save_checkpoint
from selfdepth_ros.cli import main as selfdepth
from selfdepth_ros.export import main as export
from selfdepth_ros.exported import ExportError, is_export
from selfdepth_ros.inference import Predictor
from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet

TINY = ModelConfig.small(height=64, width=96, encoder_width=8, decoder_width=4, motion_refine_width=8)
CAMERA = camera_dict([[80.0, 0, 59.5], [0, 80.0, 39.5], [0, 0, 1]], 120, 80)
SUFFIX = {'onnx': '.onnx', 'torchscript': '.pt'}


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    torch.manual_seed(2)
    path = tmp_path_factory.mktemp('exported') / 'tiny.pt'
    save_checkpoint(path, model_config=TINY, depth_net=DepthNet(TINY), motion_net=MotionNet(TINY), camera=CAMERA,
                    step=7, train_config={'frame_interval_s': 0.1})
    return path


@pytest.fixture(scope='module', params=['onnx', 'torchscript'])
def exported(request, ckpt, tmp_path_factory):
    fmt = request.param
    out = tmp_path_factory.mktemp(fmt) / 'model'
    assert export(['--checkpoint', str(ckpt), '--format', fmt, '--out', str(out)]) == 0
    return fmt, out.with_name(f'model.depth{SUFFIX[fmt]}'), out.with_name(f'model.motion{SUFFIX[fmt]}')


def _frames(n=3, h=80, w=120):
    base = np.random.default_rng(1).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return [np.roll(base, 3 * i, axis=1) for i in range(n)]


def test_either_graph_file_runs_like_the_checkpoint(ckpt, exported):
    fmt, depth_file, motion_file = exported
    ref = Predictor(ckpt, device='cpu')
    for path in (depth_file, motion_file):
        assert is_export(path)
        p = Predictor(path, device='cpu', backend='auto')
        info = p.describe()
        assert info['backend'] == {'onnx': 'onnxruntime', 'torchscript': 'torchscript'}[fmt]
        assert info['net_size'] == '64x96' and info['step'] == 7 and p.frame_interval_s == 0.1
        assert info['depth_params'] == ref.describe()['depth_params'] and info['source'] == f'export ({fmt})'
        for i, rgb in enumerate(_frames()):
            a, b = ref.predict(rgb, None, i * 100_000_000), p.predict(rgb, None, i * 100_000_000)
            np.testing.assert_allclose(b.depth, a.depth, atol=1e-5 + 1e-3 * np.abs(a.depth).max())
            assert b.K_source == a.K_source == 'checkpoint'  # the export's camera, scaled to the image
            np.testing.assert_allclose(b.K, a.K)
            if i:
                np.testing.assert_allclose(b.ego[1], a.ego[1], atol=1e-5 + 1e-3 * np.abs(a.ego[1]).max())
                np.testing.assert_allclose(b.motion, a.motion, atol=1e-5 + 1e-3 * np.abs(a.motion).max())


def test_the_sidecar_carries_what_the_node_needs(exported):
    fmt, depth_file, motion_file = exported
    meta = json.loads(depth_file.with_name(depth_file.name + '.json').read_text())
    assert meta['sidecar'] == 'selfdepth_ros/export/2' and meta['camera'] == CAMERA
    assert meta['graphs'] == {'depth': depth_file.name, 'motion': motion_file.name}
    assert meta['frame_interval_s'] == 0.1 and meta['model_config']['height'] == 64 and meta['step'] == 7
    assert len(meta['probe']['depth']['values']) == 256 and meta['probe']['depth']['shape'] == [1, 1, 64, 96]


def test_a_named_backend_does_not_apply_to_a_file_and_says_so(exported):
    fmt, depth_file, _ = exported
    other = 'onnxruntime' if fmt == 'torchscript' else 'torchscript'
    info = Predictor(depth_file, device='cpu', backend=other).describe()
    assert info['backend_note'] == (f'backend {other} does not apply to an exported {fmt} file: it runs on '
                                    f'{info["backend"]}')


def _copy(exported, tmp_path):
    fmt, depth_file, motion_file = exported
    for f in (depth_file, motion_file):
        for p in (f, f.with_name(f.name + '.json')):
            shutil.copy(p, tmp_path / p.name)
    return tmp_path / depth_file.name, tmp_path / motion_file.name


def test_broken_exports_are_refused_with_the_reason(exported, tmp_path):
    depth_file, motion_file = _copy(exported, tmp_path)
    side = motion_file.with_name(motion_file.name + '.json')
    meta = json.loads(side.read_text())
    meta['probe']['translation']['values'] = [v + 1.0 for v in meta['probe']['translation']['values']]
    side.write_text(json.dumps(meta))
    with pytest.raises(ExportError, match=r'do not reproduce the outputs recorded at export, parity FAILED .*'
                                          r'motion/translation .*refused'):
        Predictor(depth_file, device='cpu')
    side.unlink()
    with pytest.raises(ExportError, match=rf'{motion_file.name}: no metadata sidecar {side.name} beside it'):
        Predictor(depth_file, device='cpu')
    motion_file.unlink()
    with pytest.raises(ExportError, match=rf'the motion graph of this export, {motion_file.name}, is missing beside'):
        Predictor(depth_file, device='cpu')
    depth_file.unlink()
    with pytest.raises(FileNotFoundError, match='exported graph not found'):
        Predictor(depth_file, device='cpu')


def test_fixed_size_and_depth_only_exports_are_refused(ckpt, exported, tmp_path):
    _, depth_file, _ = exported
    with pytest.raises(ExportError, match=r'exported at 64x96, input size 64x128 asked for; an export has a fixed'):
        Predictor(depth_file, device='cpu', input_size=(0, 128))
    only = tmp_path / 'only.onnx'
    assert export(['--checkpoint', str(ckpt), '--format', 'onnx', '--what', 'depth', '--out', str(only)]) == 0
    with pytest.raises(ExportError, match='this export has no motion graph .*export with --what both'):
        Predictor(only, device='cpu')


def test_a_failed_load_keeps_the_model_in_use(ckpt, exported, tmp_path):
    depth_file, motion_file = _copy(exported, tmp_path)
    p = Predictor(ckpt, device='cpu', backend='onnxruntime')
    motion_file.with_name(motion_file.name + '.json').write_text('{not json')
    with pytest.raises(ExportError, match='not readable JSON'):
        p.load(depth_file)
    assert p.describe()['checkpoint'] == str(ckpt) and p.describe()['backend'] == 'onnxruntime'


def test_eval_scores_an_export_like_its_checkpoint(ckpt, exported, tiny_drive, tmp_path):
    _, depth_file, _ = exported
    scores = {}
    for name, model in (('ckpt', ckpt), ('export', depth_file)):
        out = tmp_path / f'{name}.json'
        assert selfdepth(['eval', '--checkpoint', str(model), '--bag', str(tiny_drive), '--device', 'cpu',
                          '--json', str(out)]) == 0
        scores[name] = json.loads(out.read_text())
    a, b = scores['ckpt'], scores['export']
    assert b['depth']['abs_rel'] == pytest.approx(a['depth']['abs_rel'], rel=1e-3)
    assert b['trajectory']['ate']['rmse'] == pytest.approx(a['trajectory']['ate']['rmse'], rel=1e-2, abs=1e-6)
    assert scores['export']['source']['model']['source'].startswith('export (')


def test_eval_refuses_a_broken_export_with_exit_2(exported, tiny_drive, tmp_path, capsys):
    depth_file, motion_file = _copy(exported, tmp_path)
    motion_file.with_name(motion_file.name + '.json').unlink()
    assert selfdepth(['eval', '--checkpoint', str(depth_file), '--bag', str(tiny_drive), '--device', 'cpu']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('selfdepth eval: ') and 'no metadata sidecar' in err[0]


def test_replay_refuses_a_broken_export_before_dds(exported, tiny_drive, tmp_path, capsys):
    depth_file, motion_file = _copy(exported, tmp_path)
    motion_file.unlink()
    assert selfdepth(['replay', '--checkpoint', str(depth_file), '--bag', str(tiny_drive),
                      '--out', str(tmp_path / 'out')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f'selfdepth replay: {depth_file}: the motion graph of this export, {motion_file.name}, is missing '
                   'beside it']
