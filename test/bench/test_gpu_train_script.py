"""bench/gpu_train.sh, the one-GPU training run: it parses, its recipe validates and fits 16 MiB in fp16, the fp16
stripping helper writes a checkpoint that loads and predicts like the original, the pipeline's CLIs import without
ROS, and the deps the script checks are the ones the pipeline's code imports. The whole script runs tiny on the
CPU (SMOKE=1) in the slow suite."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench import gpu_train  # noqa: E402
from selfdepth_ros.checkpoint import build_models, load_checkpoint, save_checkpoint  # noqa: E402
from selfdepth_ros.inference import Predictor  # noqa: E402
from selfdepth_ros.models import ModelConfig  # noqa: E402
from selfdepth_ros_training.config import load_config  # noqa: E402

SCRIPT = ROOT / 'bench' / 'gpu_train.sh'
RECIPE = ROOT / 'config' / 'train' / 'gpu_real.yaml'
# Code the GPU pipeline (simulate, import, train, eval) never runs: the ROS node graph, replay, ONNX export, ONNX
# Runtime (its eval runs the torch backend).
NOT_IN_PIPELINE = ('selfdepth_ros/nodes/', 'selfdepth_ros/eval/replay', 'selfdepth_ros/export.py',
                   'selfdepth_ros/ort.py')


def test_script_parses():
    subprocess.run(['bash', '-n', str(SCRIPT)], check=True)
    assert os.access(SCRIPT, os.X_OK)


def test_recipe_is_the_bigger_dynamic_scenes_run_and_fits_16_mib_in_fp16():
    cfg = load_config(RECIPE)
    small = load_config(ROOT / 'config' / 'train' / 'dynamic_scenes_small.yaml')
    assert cfg.method == 'dynamic_scenes' and (cfg.data.height, cfg.data.width) == (128, 416)
    assert (cfg.data.batch_size, cfg.optim.lr, cfg.data.num_workers) == (16, 2e-4, 8)
    assert cfg.loss.automask and cfg.loss.depth_scale_prior == small.loss.depth_scale_prior
    assert cfg.loss.depth_prior_metres == small.loss.depth_prior_metres
    model = cfg.model_config()
    assert model.encoder_width == 32 and model.zero_init_motion_head and model.translation_scale_init == 0.5
    assert cfg.schedule.field_burn_in_start == 0 < cfg.schedule.field_burn_in_end < cfg.optim.max_steps // 10
    for learn in (False, True):  # the dash-cam has no CameraInfo: the run learns intrinsics
        depth, motion = build_models(model.replace(learn_intrinsics=learn))
        n = sum(t.numel() for net in (depth, motion) for t in net.state_dict().values())
        assert 2 * n < 15.5e6  # fp16 bytes, with margin for the few fp32 tensors and the pickle (16 MiB = 16.8e6)


def _random_checkpoint(path: Path) -> Path:
    """A tiny randomly initialised small model with a real Adam state (no training)."""
    torch.manual_seed(0)
    config = ModelConfig.small(height=64, width=64)
    depth, motion = build_models(config)
    params = [*depth.parameters(), *motion.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    sum(p.float().pow(2).sum() for p in params).backward()
    opt.step()
    K = [[60.0, 0, 31.5], [0, 60.0, 31.5], [0, 0, 1]]
    return save_checkpoint(path, model_config=config, depth_net=depth, motion_net=motion, step=7, optimizer=opt,
                           camera={'K': K, 'width': 64, 'height': 64}, train_config={'recipe': {'seed': 0}},
                           rng={'torch': torch.get_rng_state()})


def test_strip_writes_fp16_weights_that_load_and_predict(tmp_path):
    src = _random_checkpoint(tmp_path / 'full.pt')
    assert gpu_train.main(['strip', str(src), str(tmp_path / 'half.pt')]) == 0
    dst = tmp_path / 'half.pt'
    assert dst.stat().st_size < 0.3 * src.stat().st_size  # no optimiser, half the bytes per weight
    raw = torch.load(dst, weights_only=True)  # plain data only
    ckpt = load_checkpoint(dst)
    assert ckpt['optimizer'] is None and ckpt['rng'] is None and ckpt['step'] == 7
    assert ckpt['camera'] == load_checkpoint(src)['camera'] and ckpt['train_config']['recipe'] == {'seed': 0}
    for net in ('depth_net', 'motion_net'):
        for k, v in raw[net].items():
            if v.is_floating_point():
                assert v.dtype == (torch.float16 if v.numel() >= gpu_train.FP32_BELOW else torch.float32), k
        assert any(v.dtype == torch.float16 for v in raw[net].values())
    rgb = [np.random.default_rng(i).integers(0, 256, (64, 64, 3), dtype=np.uint8) for i in range(2)]
    full, half = Predictor(src, device='cpu'), Predictor(dst, device='cpu')  # load_state_dict upcasts to fp32
    assert next(half.depth_net.parameters()).dtype == torch.float32
    for frame in rgb:
        a, b = full.predict(frame), half.predict(frame)
        assert np.all(np.isfinite(b.depth))
        np.testing.assert_allclose(b.depth, a.depth, rtol=2e-2)
    np.testing.assert_allclose(b.ego[1], a.ego[1], rtol=5e-2, atol=1e-4)


def test_strip_refuses_a_file_over_the_limit(tmp_path, capsys):
    src = _random_checkpoint(tmp_path / 'full.pt')
    assert gpu_train.main(['strip', str(src), str(tmp_path / 'half.pt'), '--max-mib', '0.01']) == 1
    assert 'over the 0.01 MiB' in capsys.readouterr().out


def test_budget_hook_ends_the_loop_at_the_step_that_passes_the_deadline():
    clock, seen, info = [0.0], [], {}
    hook = gpu_train.budget_hook(10.0, on_step=lambda tr: seen.append(tr.step), info=info, clock=lambda: clock[0])
    trainer = SimpleNamespace(step=1, max_steps=100)
    hook(trainer)
    assert trainer.max_steps == 100 and seen == [1]
    trainer.step, clock[0] = 2, 10.0
    hook(trainer)
    assert trainer.max_steps == 2 and info == {'stopped_by_time_at': 2} and seen == [1, 2]


def test_pipeline_clis_import_without_ros(tmp_path):
    """With every ROS module made to fail on import (as the GPU host has none), the check imports the simulate,
    import, train and eval CLIs, finds every dep and no ROS module loaded."""
    assert gpu_train.main(['block-ros', str(tmp_path / 'noros')]) == 0
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(tmp_path / 'noros'), str(ROOT)]), 'OMP_NUM_THREADS': '1'}
    blocked = subprocess.run([sys.executable, '-c', 'import rclpy'], env=env, capture_output=True, text=True)
    assert blocked.returncode != 0 and 'blocked by bench/gpu_train.sh' in blocked.stderr
    code = ('import sys, json; from bench import gpu_train as g; rc = g.main(["check", "--device", "cpu"]); '
            'print(json.dumps({"rc": rc, "ros": g.ros_modules_loaded(), '
            '"cli": [m for m in g.CLI_MODULES if m in sys.modules]}))')
    run = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {'rc': 0, 'ros': [], 'cli': list(gpu_train.CLI_MODULES)}, run.stdout


def test_checked_deps_cover_every_third_party_import_of_the_pipeline():
    """Every non-stdlib import (module level or inside a function) of the code the pipeline can reach is torch or
    one of the deps ``check`` verifies, so a GPU host that passes the check cannot fail later on an import."""
    allowed = set(gpu_train.DEPS) | {'torch', 'selfdepth_ros', 'selfdepth_ros_training'}
    found: dict[str, str] = {}
    for package in ('selfdepth_ros', 'selfdepth_ros_training'):
        for f in sorted((ROOT / package).rglob('*.py')):
            rel = f.relative_to(ROOT).as_posix()
            if rel.startswith(NOT_IN_PIPELINE):
                continue
            for node in ast.walk(ast.parse(f.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
                for top in {n.split('.')[0] for n in names} - set(sys.stdlib_module_names) - allowed:
                    found.setdefault(top, rel)
    assert found == {}, f'imports that bench/gpu_train.py check does not verify (add them to DEPS): {found}'


REAL = Path(os.environ.get('SELFDEPTH_REAL_DATA', ROOT.parent / 'shared' / 'data' / 'real'))


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / 'kitti_depth_snippet').is_dir(), reason='../shared/data/real not available')
def test_smoke_run_end_to_end(tmp_path):
    """SMOKE=1: 1 drive of 10 frames, 2 steps on the CPU, every phase, ROS blocked (~2.5 min on one core)."""
    out = tmp_path / 'out'
    env = {**os.environ, 'SMOKE': '1', 'PYTHON': sys.executable, 'OUT': str(out), 'WORK': str(tmp_path / 'work'),
           'OMP_NUM_THREADS': '1'}
    run = subprocess.run(['bash', str(SCRIPT), str(REAL)], env=env, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    summary = json.loads((out / 'gpu_train.json').read_text())
    assert summary['smoke'] and summary['steps'] == 2 and summary['device'] == 'cpu'
    assert set(summary['wall_seconds']) == {'check', 'render_and_import', 'train', 'strip', 'eval', 'total'}
    assert summary['checkpoint']['bytes'] <= 16 * 2 ** 20
    assert summary['eval']['kitti_depth']['abs_rel'] is not None
    assert summary['eval']['kitti_odometry']['snippet_ate'] is not None
    assert summary['shipped_eval']['kitti_depth']['abs_rel'] is not None
    assert len([p for p in out.iterdir() if p.is_file()]) <= 8
    assert 'ROS modules blocked' in run.stdout and '[gpu_train] SMOKE steps 2' in run.stdout
