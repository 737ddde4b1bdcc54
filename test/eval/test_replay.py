"""`selfdepth replay`: a synthetic drive played over DDS into the in-process perception node, recorded, scored.

The untrained small checkpoint is saved here with selfdepth_ros.checkpoint, so the recorded depth must equal
what the same Predictor gives offline for the same frames (lockstep drops nothing and keeps the order).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.bag import messages as m
from selfdepth_ros.eval import replay as rp
from selfdepth_ros.eval import replay_io
from selfdepth_ros.image_codec import rosbags_typestore

ROOT = Path(__file__).resolve().parents[2]
FRAMES, W, H = 8, 128, 48


@pytest.fixture(scope='module')
def drive(tmp_path_factory):
    """An 8-frame 128×48 synthetic drive (the topics of docs/CONVENTIONS.md) and an untrained small checkpoint."""
    import torch
    from selfdepth_ros.checkpoint import save_checkpoint
    from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet
    from selfdepth_ros.sim import SimConfig
    from selfdepth_ros.sim.record import record_drive
    root = tmp_path_factory.mktemp('replay')
    record_drive(SimConfig(width=W, height=H, frames=FRAMES, seed=3), root / 'gt')
    cfg = ModelConfig.small()
    torch.manual_seed(0)
    save_checkpoint(root / 'small.pt', model_config=cfg, depth_net=DepthNet(cfg), motion_net=MotionNet(cfg))
    return root / 'gt', root / 'small.pt'


def _stamps_and_logs(bag, topic):
    with BagReader(bag) as b:
        return [(s.stamp_ns, log) for log, s in b.samples(topic, with_log_time=True)]


# -- pieces without ROS -------------------------------------------------------------------------------------
def test_camera_frames_send_camera_info_first_with_the_bag_bytes(drive):
    bag, _ = drive
    frames = list(replay_io.camera_frames(bag, '/camera/image_raw', '/camera/camera_info'))
    assert len(frames) == FRAMES
    store = rosbags_typestore()
    with BagReader(bag) as b:
        originals = list(b.messages('/camera/image_raw'))
    for frame, orig in zip(frames, originals):
        assert [t for t, _, _ in frame.messages] == ['/camera/camera_info', '/camera/image_raw']
        info = store.deserialize_cdr(frame.messages[0][2], frame.messages[0][1])
        image = store.deserialize_cdr(frame.messages[1][2], frame.messages[1][1])
        assert frame.stamp_ns == orig.log_time_ns == m.stamp_ns_of(info.header) == m.stamp_ns_of(image.header)
        assert bytes(image.data) == bytes(orig.msg.data) and image.encoding == 'rgb8'
    assert len(list(replay_io.camera_frames(bag, '/camera/image_raw', None, max_frames=3))) == 3


def test_receive_clock_puts_outputs_on_the_input_bag_timeline(monkeypatch):
    now = [5_000_000_000]
    monkeypatch.setattr(replay_io.time, 'monotonic_ns', lambda: now[0])
    clock = replay_io.ReceiveClock()
    clock.sent(stamp_ns=100, log_ns=1_000)          # sent at wall 5 s
    now[0] += 50_000_000
    clock.sent(stamp_ns=200, log_ns=2_000)          # sent at wall 5.05 s
    # frame 100 answered 70 ms after it was sent: its bag time + 70 ms, delay 70 ms
    assert clock.log_time(100, 5_070_000_000) == 1_000 + 70_000_000
    assert clock.delay_ms(100, 5_070_000_000) == pytest.approx(70.0)
    # a message answering no frame (diagnostics) is timed from the last frame sent
    assert clock.log_time(999, 5_060_000_000) == 2_000 + 10_000_000
    assert clock.delay_ms(999, 5_060_000_000) is None


def test_argument_errors_name_the_argument(drive, tmp_path, capsys):
    bag, ckpt = drive
    base = ['--bag', str(bag), '--out', str(tmp_path / 'o')]
    for argv, needle in ((['--checkpoint', str(ckpt), '--mode', 'lockstep', '--rate', '2'], '--rate applies'),
                         ([], '--checkpoint is required'),
                         (['--checkpoint', str(tmp_path / 'nope.pt')], 'checkpoint: '),
                         (['--checkpoint', str(ckpt), '--rate', '0'], 'rate must be')):
        with pytest.raises(SystemExit) as exc:
            rp.main(base + argv)
        assert exc.value.code == 2 and needle in capsys.readouterr().err
    (tmp_path / 'exists').mkdir()
    with pytest.raises(SystemExit):
        rp.main(['--bag', str(bag), '--out', str(tmp_path / 'exists'), '--checkpoint', str(ckpt)])
    assert 'exists already' in capsys.readouterr().err
    assert rp.main(base + ['--checkpoint', str(ckpt), '--image-topic', '/cam/nothing']) == 1
    err = capsys.readouterr().err
    assert "missing topic '/cam/nothing'" in err and '/camera/image_raw' in err


# -- over DDS -----------------------------------------------------------------------------------------------
@pytest.mark.ros
def test_lockstep_replay_records_the_node_outputs_and_eval_scores_them(drive, tmp_path, capsys):
    from selfdepth_ros.eval import cli as eval_cli
    from selfdepth_ros.inference import Predictor
    bag, ckpt = drive
    out = tmp_path / 'pred'
    assert rp.main(['--checkpoint', str(ckpt), '--bag', str(bag), '--out', str(out), '--quiet']) == 0
    printed = capsys.readouterr().out
    assert f'frames sent {FRAMES}, received {FRAMES}, dropped 0' in printed
    with BagReader(out) as b:
        counts = {t: i.count for t, i in b.topics.items()}
    assert counts['/selfdepth/depth'] == counts['/selfdepth/odom'] == counts['/selfdepth/depth/camera_info'] == FRAMES
    assert counts['/selfdepth/motion'] == FRAMES - 1  # no pair on the first frame
    assert counts.get('/tf') == FRAMES

    gt = _stamps_and_logs(bag, '/camera/image_raw')
    depth = sorted(_stamps_and_logs(out, '/selfdepth/depth'))
    assert [s for s, _ in depth] == [s for s, _ in gt]               # stamps preserved, every frame answered
    assert all(log > stamp for stamp, log in depth)                 # receive time = stamp + the graph's delay

    # The node ran the same Predictor the offline path runs: identical depth, frame by frame.
    ref = Predictor(ckpt, device='cpu')
    with BagReader(bag) as b, BagReader(out) as o:
        infos = {s.stamp_ns: s.K for s in b.samples('/camera/camera_info')}
        got = {s.stamp_ns: s.image for s in o.samples('/selfdepth/depth')}
        for s in b.samples('/camera/image_raw'):
            np.testing.assert_allclose(got[s.stamp_ns], ref.predict(s.image, np.array(infos[s.stamp_ns]), s.stamp_ns).depth,
                                       rtol=1e-5, atol=1e-6)

    js = tmp_path / 'm.json'
    assert eval_cli.main(['--pred-bag', str(out), '--bag', str(bag), '--json', str(js)]) == 0
    metrics = json.loads(js.read_text())
    for key in ('depth', 'depth_static', 'depth_dynamic', 'trajectory', 'motion_field', 'latency_ms'):
        assert key in metrics
    src = metrics['source']
    # Every frame is scored: outputs are paired by stamp, whatever order they were received in.
    assert src['predicted'] == FRAMES
    assert metrics['depth']['abs_rel'] > 0 and metrics['latency_ms']['min'] > 0


@pytest.mark.ros
def test_realtime_replay_faster_than_the_node_drops_frames(drive, tmp_path):
    from selfdepth_ros.eval import cli as eval_cli
    bag, ckpt = drive
    opts = rp.ReplayOptions(bag=bag, out=tmp_path / 'rt', checkpoint=ckpt, mode='realtime', rate=50.0,
                            progress=False)
    result = rp.replay(opts)       # a frame every 2 ms; one small-net inference takes far longer
    assert result.sent == FRAMES and result.received + result.dropped == FRAMES
    assert result.dropped >= 1 and result.received >= 2
    last = _stamps_and_logs(bag, '/camera/image_raw')[-1][0]
    assert last in {s for s, _ in _stamps_and_logs(tmp_path / 'rt', '/selfdepth/depth')}  # newest frame wins
    js = tmp_path / 'rt.json'
    assert eval_cli.main(['--pred-bag', str(tmp_path / 'rt'), '--bag', str(bag), '--json', str(js)]) == 0
    src = json.loads(js.read_text())['source']
    assert src['predicted'] == result.received and src['without_prediction'] == result.dropped


@pytest.mark.ros
def test_compressed_camera_bag_switches_the_node_to_compressed_transport(tmp_path):
    from selfdepth_ros.bag.writer import BagWriter
    K = np.array([[60.0, 0, 47.5], [0, 60.0, 31.5], [0, 0, 1]])
    rng = np.random.default_rng(1)
    with BagWriter(tmp_path / 'jpeg') as w:
        for t in range(3):
            stamp = 2_000_000_000 + 100_000_000 * t
            w.write_compressed_image('/cam/image/compressed', rng.integers(0, 255, (64, 96, 3), dtype=np.uint8),
                                     'jpeg', stamp, 'cam')
            w.write_camera_info('/cam/info', K, 96, 64, stamp, 'cam')
    result = rp.replay(rp.ReplayOptions(bag=tmp_path / 'jpeg', out=tmp_path / 'out', checkpoint=None,
                                        image_topic='/cam/image/compressed', camera_info_topic='/cam/info',
                                        progress=False))
    assert (result.sent, result.received) == (3, 3)
    with BagReader(tmp_path / 'out') as b:
        depth = list(b.samples('/selfdepth/depth'))
    assert [d.image.shape for d in depth] == [(64, 96)] * 3 and depth[0].frame_id == 'cam'


@pytest.mark.slow
@pytest.mark.ros
def test_external_node_started_with_selfdepth_run(drive, tmp_path):
    bag, ckpt = drive
    proc = subprocess.Popen([sys.executable, '-m', 'selfdepth_ros.cli', 'run', '--param', f'checkpoint:={ckpt}'],
                            cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        result = rp.replay(rp.ReplayOptions(bag=bag, out=tmp_path / 'ext', external_node=True, progress=False,
                                            discovery_timeout_s=90.0))
        assert result.received == result.sent == FRAMES
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.ros
def test_no_frame_is_sent_before_the_node_is_there_and_a_missing_node_is_one_clear_line(drive, tmp_path, capsys):
    """Replay waits for the node's subscriptions and outputs to match before the first frame; when they never do,
    one line names what did not match and the fix, and the empty output bag this run created is not left behind
    (a rerun with the same --out works)."""
    bag, _ = drive
    out = tmp_path / 'never'
    assert rp.main(['--bag', str(bag), '--out', str(out), '--external-node', '--discovery-timeout', '1',
                    '--quiet']) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('selfdepth replay: after 1 s, no running perception node matched')
    assert 'selfdepth run --remap image:=/camera/image_raw' in err[0] and 'subscribers of /camera/image_raw: 0' in err[0]
    assert not out.exists()
