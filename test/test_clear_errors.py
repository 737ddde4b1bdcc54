"""Bad input gives one clear line on stderr and a non-zero exit, never a traceback: junk checkpoints in every
command that loads one, a missing checkpoint in `selfdepth run` / the node / `selfdepth replay`, malformed ROS
parameters, and `selfdepth run --ros-args ...` is accepted."""
import io
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from selfdepth_ros.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from selfdepth_ros.cli import main as selfdepth
from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet

ROOT = Path(__file__).resolve().parents[1]
TINY = ModelConfig.small(height=64, width=64, encoder_width=8, decoder_width=4, motion_refine_width=8)


def _junk_files(folder: Path) -> dict[str, Path]:
    """Files named .pt that are no checkpoint: each makes torch.load fail a different way."""
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / 'good.pt'
    save_checkpoint(good, model_config=TINY, depth_net=DepthNet(TINY), motion_net=MotionNet(TINY))
    data = good.read_bytes()
    files = {
        'random': random.Random(0).randbytes(5000),         # raw junk
        'memo': b'\x80\x02h\x8f' + bytes(200),               # a pickle reading an empty memo: KeyError 143
        'truncated': data[: len(data) // 2],                 # an interrupted copy of a real checkpoint
        'text': b'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 8300000\n',  # an LFS pointer
        'empty': b'',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        z.writestr('archive/data.pkl', b'\x80\x02}q\x00.')  # a zip without torch's layout
    files['zip'] = buf.getvalue()
    out = {}
    for name, content in files.items():
        out[name] = folder / f'{name}.pt'
        out[name].write_bytes(content)
    return out


@pytest.fixture(scope='module')
def junk(tmp_path_factory):
    return _junk_files(tmp_path_factory.mktemp('junk'))


@pytest.fixture(scope='module')
def bag(tiny_drive):
    return tiny_drive


def _one_clear_line(err: str, needle: str) -> str:
    assert 'Traceback' not in err, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert needle in lines[0], err
    return lines[0]


def test_load_checkpoint_refuses_every_junk_file_naming_it(junk):
    for name, path in junk.items():
        with pytest.raises(CheckpointError) as exc:
            load_checkpoint(path)
        assert str(path) in str(exc.value) and 'could run code' not in str(exc.value), name
        assert '\n' not in str(exc.value), name


def test_export_eval_replay_refuse_a_junk_checkpoint_with_exit_2(junk, bag, tmp_path, capsys):
    path = junk['memo']
    commands = {
        'export': ['export', '--checkpoint', str(path), '--format', 'torchscript'],
        'eval': ['eval', '--checkpoint', str(path), '--bag', str(bag), '--device', 'cpu'],
        'replay': ['replay', '--checkpoint', str(path), '--bag', str(bag), '--out', str(tmp_path / 'pred')],
    }
    for name, argv in commands.items():
        assert selfdepth(argv) == 2, name
        _one_clear_line(capsys.readouterr().err, f'selfdepth {name}: {path}')
    assert not (tmp_path / 'pred').exists()


def test_train_init_refuses_a_junk_checkpoint_with_exit_2(junk, bag, tmp_path, capsys):
    recipe = yaml.safe_load((ROOT / 'config/train/dynamic_scenes_small.yaml').read_text())
    recipe['model'].update(encoder_width=8, decoder_width=4, motion_refine_width=4)
    recipe['data'].update(height=64, width=64, batch_size=2)
    (tmp_path / 'r.yaml').write_text(yaml.safe_dump(recipe))
    rc = selfdepth(['train', '--config', str(tmp_path / 'r.yaml'), '--bags', str(bag), '--out', str(tmp_path / 'run'),
                    '--init', str(junk['random']), '--no-progress', '--device', 'cpu'])
    assert rc == 2
    _one_clear_line(capsys.readouterr().err, f"selfdepth train: {junk['random']}")


def _run(args, timeout=90):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([sys.executable, '-m', *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _one_line_from_us(err: str, needle: str) -> str:
    """rcl may log its own '[ERROR] [rcl]: ...' line; ours is the one line starting with 'selfdepth'."""
    assert 'Traceback' not in err, err
    ours = [line for line in err.splitlines() if line.startswith('selfdepth')]
    assert len(ours) == 1 and needle in ours[0], err
    return ours[0]


@pytest.mark.ros
def test_run_and_the_node_say_which_checkpoint_is_missing_or_junk(junk, tmp_path):
    missing = tmp_path / 'missing.pt'
    # --ros-args is accepted (as with ros2 run), and a missing checkpoint is one line, exit 2
    proc = _run(['selfdepth_ros.cli', 'run', '--ros-args', '-p', 'device:=cpu', '-p', f'checkpoint:={missing}'])
    assert proc.returncode == 2
    assert 'device:=cpu' in proc.stdout  # the printed command line carries the --ros-args parameter
    _one_line_from_us(proc.stderr, f'checkpoint not found: {missing}')
    proc = _run(['selfdepth_ros.cli', 'run', '--checkpoint', str(junk['truncated'])])
    assert proc.returncode == 2
    _one_line_from_us(proc.stderr, f"CheckpointError: {junk['truncated']} is not a readable torch checkpoint")
    # what `ros2 run selfdepth_ros perception_node` runs
    proc = _run(['selfdepth_ros.nodes.perception_node', '--ros-args', '-p', f'checkpoint:={missing}'])
    assert proc.returncode == 2
    _one_line_from_us(proc.stderr, f'checkpoint not found: {missing}')


@pytest.mark.ros
def test_a_list_parameter_with_an_int_inside_is_rejected_in_one_line(tmp_path):
    proc = _run(['selfdepth_ros.cli', 'run', '--param', 'camera_mount:=[0, 0.0, 1.5, 0.0, 0.0, 0.0]'])
    assert proc.returncode == 2
    _one_line_from_us(proc.stderr, 'write 0.0, not 0')
    config = yaml.safe_load((ROOT / 'config' / 'perception.yaml').read_text())
    config['/**/selfdepth']['ros__parameters']['camera_mount'] = [0, 0.0, 1.5, 0.0, 0.0, 0.0]
    (tmp_path / 'p.yaml').write_text(yaml.safe_dump(config))
    proc = _run(['selfdepth_ros.cli', 'run', '--config', str(tmp_path / 'p.yaml')])
    assert proc.returncode == 2
    _one_line_from_us(proc.stderr, 'cannot parse the ROS arguments')


@pytest.mark.ros
def test_replay_names_a_missing_checkpoint_of_its_node(bag, tmp_path, capsys):
    from selfdepth_ros.eval import replay
    missing = tmp_path / 'missing.pt'
    rc = replay.main(['--checkpoint', 'none', '--param', f'checkpoint:={missing}', '--bag', str(bag),
                      '--out', str(tmp_path / 'pred'), '--quiet'])
    assert rc == 1
    err = capsys.readouterr().err
    assert 'UNTRAINED' in err.splitlines()[0]  # the warning for --checkpoint none, then the error
    _one_clear_line('\n'.join(err.splitlines()[1:]), f'checkpoint not found: {missing}')
