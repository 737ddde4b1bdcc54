"""The lifecycle (managed) node variant (issue 12), driven with lifecycle_msgs services over real DDS (loopback):
configure loads the model (a junk checkpoint fails the transition cleanly: FAILURE, still unconfigured, an ERROR
with the reason), activate subscribes the inputs and publishes, deactivate stops, cleanup releases; and
``selfdepth run --lifecycle [--autostart]``."""
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from lifecycle_msgs.msg import Transition  # noqa: E402
from lifecycle_msgs.srv import ChangeState, GetState  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402
from std_msgs.msg import String  # noqa: E402

from selfdepth_ros.nodes import conversions as cv  # noqa: E402
from selfdepth_ros.nodes.executor import make_executor  # noqa: E402
from selfdepth_ros.nodes.lifecycle_node import PerceptionLifecycleNode  # noqa: E402
from selfdepth_ros.nodes.node import default_predictor  # noqa: E402

pytestmark = pytest.mark.ros
ROOT = Path(__file__).resolve().parents[2]
QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
K = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])


def _wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f'timed out waiting for {what}'
        time.sleep(0.01)


class Manager:
    """A lifecycle manager stand-in: ChangeState/GetState clients on another node, spun in a thread."""

    def __init__(self, ctx, target='/selfdepth', nodes=()):
        self.node = rclpy.create_node('manager', context=ctx)
        self.change = self.node.create_client(ChangeState, f'{target}/change_state')
        self.get = self.node.create_client(GetState, f'{target}/get_state')
        self.ex = make_executor(context=ctx)
        for n in (self.node, *nodes):
            self.ex.add_node(n)
        self.thread = threading.Thread(target=self.ex.spin, daemon=True)
        self.thread.start()
        assert self.change.wait_for_service(timeout_sec=30) and self.get.wait_for_service(timeout_sec=30)

    def _call(self, client, request, timeout=60):
        future = client.call_async(request)
        _wait(future.done, timeout, type(request).__name__)
        return future.result()

    def transition(self, transition_id) -> bool:
        return self._call(self.change, ChangeState.Request(transition=Transition(id=transition_id))).success

    def state(self) -> str:
        return self._call(self.get, GetState.Request()).current_state.label

    def close(self):
        self.ex.shutdown()
        self.thread.join(timeout=5)
        self.node.destroy_node()


def test_transitions_over_dds_load_publish_stop_and_release(ros_context, make_frame, tmp_path, console):
    junk = tmp_path / 'junk.pt'
    junk.write_bytes(b'not a checkpoint' * 10)
    loads = []

    def factory(p):
        loads.append(p['checkpoint'])
        return default_predictor(p)
    node = PerceptionLifecycleNode(context=ros_context, predictor_factory=factory, parameter_overrides=[
        Parameter('checkpoint', value=str(junk)), Parameter('model_preset', value='small'),
        Parameter('device', value='cpu')], cli_args=['--ros-args', '-r', 'image:=/lc/image', '-r', 'camera_info:=/lc/info'])
    col = rclpy.create_node('lc_collector', context=ros_context)
    got, scale = [], []
    col.create_subscription(Image, '/selfdepth/depth/image', got.append, QOS)
    col.create_subscription(String, '/selfdepth/scale', scale.append, LATCHED)
    img_pub = col.create_publisher(Image, '/lc/image', QOS)
    info_pub = col.create_publisher(CameraInfo, '/lc/info', QOS)
    mgr = Manager(ros_context, nodes=(node, col))
    try:
        assert mgr.state() == 'unconfigured' and node.predictor is None and not loads  # nothing loaded yet
        assert img_pub.get_subscription_count() == 0
        # configure with a junk checkpoint: FAILURE, still unconfigured, the reason logged — the node lives on
        assert not mgr.transition(Transition.TRANSITION_CONFIGURE)
        assert mgr.state() == 'unconfigured' and loads == [str(junk)]
        error = console.wait('configure failed', min_level='ERROR')[0].msg
        assert 'junk.pt' in error and 'CheckpointError' in error
        assert node.count_publishers('/selfdepth/depth/image') == 0  # nothing left behind by the failed configure
        # fix the parameter (checkpoint is settable while unconfigured), configure again: the untrained small net
        assert node.set_parameters([Parameter('checkpoint', value='')])[0].successful
        assert mgr.transition(Transition.TRANSITION_CONFIGURE) and mgr.state() == 'inactive'
        assert node.predictor is not None and loads == [str(junk), '']
        _wait(lambda: col.count_publishers('/selfdepth/depth/image') == 1, 10, 'the depth publisher')
        assert img_pub.get_subscription_count() == 0  # inactive: no inputs, no processing
        # activate: inputs subscribed, frames processed, the scale latched
        assert mgr.transition(Transition.TRANSITION_ACTIVATE) and mgr.state() == 'active'
        _wait(lambda: img_pub.get_subscription_count() > 0 and info_pub.get_subscription_count() > 0
              and node.depth_image_pub.get_subscription_count() > 0, 10, 'inputs')
        _wait(lambda: scale and scale[-1].data == 'relative', 10, 'latched ~/scale')
        rgb = make_frame(48, 64)
        for stamp in (1_000_000_000, 1_100_000_000):
            n = len(got)
            info_pub.publish(cv.camera_info_msg(K, 64, 48, stamp, 'cam'))
            img_pub.publish(cv.image_msg(rgb, 'rgb8', stamp, 'cam'))
            _wait(lambda: len(got) > n, 30, f'depth of {stamp}')
        assert [cv.time_to_ns(d.header.stamp) for d in got] == [1_000_000_000, 1_100_000_000]
        # deactivate: inputs gone, worker stopped, nothing published
        assert mgr.transition(Transition.TRANSITION_DEACTIVATE) and mgr.state() == 'inactive'
        assert node._worker is None and node.image_sub is None
        _wait(lambda: img_pub.get_subscription_count() == 0, 10, 'inputs unsubscribed')
        # cleanup: the model released, the outputs destroyed
        assert mgr.transition(Transition.TRANSITION_CLEANUP) and mgr.state() == 'unconfigured'
        assert node.predictor is None
        _wait(lambda: col.count_publishers('/selfdepth/depth/image') == 0, 10, 'outputs destroyed')
        assert mgr.transition(Transition.TRANSITION_UNCONFIGURED_SHUTDOWN) and mgr.state() == 'finalized'
        assert not [m for m in console.lines(min_level='ERROR') if 'configure failed' not in m.msg]
    finally:
        mgr.close()
        for n in (node, col):
            n.destroy_node()


def _run(*args):
    return subprocess.Popen([sys.executable, '-m', 'selfdepth_ros.cli', 'run', *args], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_selfdepth_run_lifecycle_waits_unconfigured_for_a_manager(ros_context):
    proc = _run('--lifecycle', '--namespace', 'lcrun', '--checkpoint', '', '--param', 'model_preset:=small',
                '--ros-args', '-p', 'device:=cpu')
    mgr = None
    try:
        mgr = Manager(ros_context, target='/lcrun/selfdepth')
        assert mgr.state() == 'unconfigured'
        assert mgr.transition(Transition.TRANSITION_CONFIGURE) and mgr.state() == 'inactive'
        assert mgr.transition(Transition.TRANSITION_ACTIVATE) and mgr.state() == 'active'
        assert proc.poll() is None
    finally:
        if mgr is not None:
            mgr.close()
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    assert 'ros2 lifecycle set /lcrun/selfdepth configure' in out


def test_selfdepth_run_lifecycle_autostart_refuses_a_bad_model_in_one_line(tmp_path):
    proc = _run('--lifecycle', '--autostart', '--checkpoint', str(tmp_path / 'missing.pt'))
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 2, out
    assert 'Traceback' not in out
    line = [x for x in out.splitlines() if x.startswith('selfdepth: ')]
    assert len(line) == 1 and 'configure failed' in line[0] and 'missing.pt' in line[0]
