"""The ``selfdepth`` perception node: camera frames in; depth, odometry, TF, motion field, points out.

Inputs (remappable): ``image`` (``sensor_msgs/Image`` any common encoding, or ``CompressedImage`` with
``image_transport: compressed``) and ``camera_info``, sensor-data QoS, depth 1 (the newest frame wins; drops
are counted). Callbacks only store messages; a worker thread decodes, runs the ``Predictor`` and publishes,
so parameter services, timers and subscriptions never wait for the network.

Outputs, stamped with the input image's stamp, in the camera's optical frame:
``~/depth/image`` (32FC1 metres or relative, NaN invalid) + its sibling ``~/depth/camera_info`` (at the published
resolution; image_transport's ``<image namespace>/camera_info`` rule, so rviz2's DepthCloud and depth_image_proc
find it), the same image on the older ``~/depth``, ``~/odom`` + TF ``odom → base_frame`` (mount looked up in TF,
:mod:`.tf_frames`) or ``odom → camera`` when no base frame is set and the camera frame has no parent in TF,
``~/motion`` (32FC3 ``T_obj`` of the pair t−1 → t, indexed by the pixels of frame t−1, cam_t axes, metres per
frame interval; at the network resolution unless ``motion_resolution: input``) + ``~/motion/visual`` (rgb8
colour wheel) + ``~/motion/camera_info``, optional ``~/points``, and ``/diagnostics``. Service ``~/reset``
(std_srvs/Trigger): odometry back to identity. Input is expected rectified: a CameraInfo
with non-zero distortion gets a throttled warning and ``D`` is ignored. Each image/cloud/odometry output is
built and sent only while it has subscribers; odometry state, TF and diagnostics are always kept.
Which scale the outputs carry: the latched ``~/scale`` (std_msgs/String ``relative``, ``metric:camera_height`` or
``metric:speed_topic``) and ``~/scale/factor`` (std_msgs/Float32), an INFO line at start and on each change, and
the ``/diagnostics`` status ``<node>: scale`` (keys ``scale``, ``metric``, ``factor``).

:class:`PerceptionCore` is the pipeline in four phases — declare, configure (parameters, model, outputs, TF),
activate (inputs, timer, worker), deactivate/cleanup — shared by :class:`PerceptionNode` (all at construction)
and the lifecycle variant (``lifecycle_node.py``, one phase per transition). Run-time control (parameters,
hot reload, ``~/reset``) is in ``control.py``, ``/diagnostics`` in ``diagnostics.py``, spinning in ``executor.py``.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

import numpy as np
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from rclpy.qos import (DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_policy_name_from_kind,
                       qos_profile_sensor_data)
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from ..image_codec import compressed_to_numpy, image_to_numpy, to_rgb8
from . import conversions as cv
from .control import NodeControl
from .diagnostics import publish_diagnostics
from .frame_gaps import FrameGapGuard
from .odometry import OdometryIntegrator
from .outputs import PerceptionOutputs
from .pairing import FramePairer, Frame
from .params import SPECS, descriptor, validate
from .scale import ScaleEstimator
from .stats import RollingStats
from .tf_frames import TfOutput

try:  # rclpy >= Iron
    from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
except ImportError:  # pragma: no cover - Humble
    from rclpy.qos_event import PublisherEventCallbacks, SubscriptionEventCallbacks

OUTPUT_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)  # reliable matches every subscriber
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""``~/scale`` and ``~/scale/factor``: a subscriber that joins late still gets the current value."""


def default_predictor(p: dict[str, Any]):
    """Build the real ``Predictor`` from the node's parameters (checkpoint, device, backend, preset, input size).

    A checkpoint brings its own architecture and settings (``min_depth``, …); ``model_preset`` is the
    architecture of the untrained network (``checkpoint: ''``, at start or set later); ``input_height``/
    ``input_width`` (when non-zero) replace the network input size of either.
    """
    from ..checkpoint import resolve_checkpoint
    from ..inference import Predictor
    from ..models import ModelConfig
    cfg = ModelConfig.small() if p['model_preset'] == 'small' else ModelConfig()
    checkpoint = resolve_checkpoint(p['checkpoint'])  # 'shipped' = the installed model, '' = untrained
    size = (p['input_height'], p['input_width'])
    return Predictor(checkpoint=checkpoint, device=p['device'], max_gap_s=p['max_time_gap'], untrained_config=cfg,
                     input_size=size if any(size) else None, backend=p['backend'])


class PerceptionCore(NodeControl, PerceptionOutputs):
    """The pipeline of both node variants (a mixin before ``Node`` or ``LifecycleNode``); see the module doc."""

    predictor = None
    _worker: threading.Thread | None = None
    _running = False
    image_sub = info_sub = diag_timer = tf = None

    # -- phases --------------------------------------------------------------------------------------------
    def _declare(self, predictor_factory: Callable | None) -> None:
        self._predictor_factory = predictor_factory or default_predictor
        for spec in SPECS:
            self.declare_parameter(spec.name, spec.default, descriptor(spec))
        self._warned: dict[str, float] = {}
        self._lock = threading.Lock()  # guards self.p / scale / odom between the worker and parameter callbacks
        self._input_group, self._timer_group = MutuallyExclusiveCallbackGroup(), MutuallyExclusiveCallbackGroup()
        self.add_on_set_parameters_callback(self._on_set_parameters)

    def _create_output(self, msg_type, name: str, qos=OUTPUT_QOS):
        """A publisher (the lifecycle variant makes lifecycle publishers) with the incompatible-QoS hint."""
        events = PublisherEventCallbacks(incompatible_qos=lambda e: self._on_incompatible_pub(e, pub.topic_name))
        pub = self._new_publisher(msg_type, name, qos, events)
        return pub

    def _new_publisher(self, msg_type, name, qos, events):
        return self.create_publisher(msg_type, name, qos, event_callbacks=events)

    def _destroy_output(self, pub) -> None:
        self.destroy_publisher(pub)

    def _configure(self) -> None:
        """Parameters checked, model loaded, outputs, TF and ``~/reset`` created (raises with the reason)."""
        p = {s.name: self.get_parameter(s.name).value for s in SPECS}
        p['camera_mount'] = list(p['camera_mount'])
        bad = [r for r in (validate(k, v) for k, v in p.items()) if r]
        if bad:
            raise ValueError('invalid parameters: ' + '; '.join(bad))
        self.p = p
        self.predictor = self._predictor_factory(self.p)
        self.model_info = self.predictor.describe()
        self._report_backend()
        self.pairer = FramePairer(wait_ns=int(self.p['camera_info_wait'] * 1e9))
        self.stats = RollingStats()
        self.odom = OdometryIntegrator(self.p['odom_translation_noise'], self.p['odom_rotation_noise'])
        self._configure_scale(self.p)
        self.scale_state = None
        self._prev_stamp_ns: int | None = None
        self.gaps = FrameGapGuard()
        self._gap_resets_reported = 0
        self._last_reset, self._last_reload = 'none yet', 'none'
        self._speed: float | None = None
        self._speed_sub = None
        # image_transport's sibling rule (camera_info = <image topic's namespace>/camera_info): rviz2's DepthCloud
        # and depth_image_proc find ~/depth/camera_info from ~/depth/image, ~/motion/camera_info from ~/motion/visual.
        from diagnostic_msgs.msg import DiagnosticArray
        from nav_msgs.msg import Odometry
        from sensor_msgs.msg import PointCloud2
        from std_msgs.msg import Float32, String
        mk = self._create_output
        self.depth_image_pub, self.depth_info_pub = mk(Image, '~/depth/image'), mk(CameraInfo, '~/depth/camera_info')
        self.depth_pub = mk(Image, '~/depth')  # the older name (replay/eval bags record it); same message
        self.motion_pub, self.motion_visual_pub = mk(Image, '~/motion'), mk(Image, '~/motion/visual')
        self.motion_info_pub = mk(CameraInfo, '~/motion/camera_info')
        self.odom_pub, self.points_pub = mk(Odometry, '~/odom'), mk(PointCloud2, '~/points')
        self.diag_pub = mk(DiagnosticArray, '/diagnostics', 10)
        self.scale_pub, self.scale_factor_pub = mk(String, '~/scale', LATCHED_QOS), mk(Float32, '~/scale/factor',
                                                                                        LATCHED_QOS)
        self._outputs = [self.depth_image_pub, self.depth_info_pub, self.depth_pub, self.motion_pub,
                         self.motion_visual_pub, self.motion_info_pub, self.odom_pub, self.points_pub, self.diag_pub,
                         self.scale_pub, self.scale_factor_pub]
        self._scale_sent: tuple[str, float] | None = None
        self.tf = TfOutput(self, self._warn)
        from std_srvs.srv import Trigger
        self._reset_gen = 0  # bumped by ~/reset: a frame in flight across a reset adds no odometry step
        self.reset_srv = self.create_service(Trigger, '~/reset', self._on_reset, callback_group=self._timer_group)

    def _activate(self) -> None:
        """Inputs subscribed, diagnostics timer and worker started, the scale announced."""
        sub_events = SubscriptionEventCallbacks(incompatible_qos=self._on_incompatible_sub)
        img_type = CompressedImage if self.p['image_transport'] == 'compressed' else Image
        self.image_sub = self.create_subscription(img_type, 'image', self._on_image, qos_profile_sensor_data,
                                                  callback_group=self._input_group, event_callbacks=sub_events)
        self.info_sub = self.create_subscription(CameraInfo, 'camera_info', self._on_info, qos_profile_sensor_data,
                                                 callback_group=self._input_group, event_callbacks=sub_events)
        self._maybe_subscribe_speed()
        self._scale_sent = None
        self._report_scale(self.scale.update(), announce=True)
        self.diag_timer = self.create_timer(self.p['diagnostics_period'], lambda: publish_diagnostics(self),
                                            callback_group=self._timer_group)
        self._start_ns = time.monotonic_ns()
        self.pairer.last_pair_ns = None
        self._running = True
        self._worker = threading.Thread(target=self._work, name='selfdepth-worker', daemon=True)
        self._worker.start()
        self.get_logger().info(f"listening on {self.image_sub.topic_name} + {self.info_sub.topic_name}; "
                               f"model {self.model_info.get('checkpoint')} on {self.model_info.get('device')}"
                               f"{', backend ' + self.model_info['backend'] if 'backend' in self.model_info else ''}")

    def _deactivate(self) -> None:
        """Worker stopped (the frame in the network finishes), inputs and timer destroyed; outputs stay."""
        self._running = False
        if self._worker is not None and self._worker.is_alive():
            self._worker.join(timeout=5.0)
        self._worker = None
        for sub in (self.image_sub, self.info_sub, self._speed_sub):
            if sub is not None:
                self.destroy_subscription(sub)
        self.image_sub = self.info_sub = self._speed_sub = None
        if self.diag_timer is not None:
            self.destroy_timer(self.diag_timer)
            self.diag_timer = None

    def _cleanup(self) -> None:
        """Outputs, TF, ``~/reset`` destroyed and the model released (back to the declared parameters only)."""
        for pub in getattr(self, '_outputs', []):
            self._destroy_output(pub)
        self._outputs = []
        if self.tf is not None:
            self.tf.destroy()
            self.tf = None
        if getattr(self, 'reset_srv', None) is not None:
            self.destroy_service(self.reset_srv)
            self.reset_srv = None
        self.predictor = None

    def destroy_node(self) -> None:
        self._running = False
        worker = self._worker  # absent when construction failed (bad parameter, missing checkpoint)
        if worker is not None and worker.is_alive():
            worker.join(timeout=5.0)
        super().destroy_node()

    # -- set-up helpers ----------------------------------------------------------------------------------
    def _configure_scale(self, p: dict) -> None:
        self.scale = ScaleEstimator(p['scale_mode'], p['camera_height'], p['scale_window'])

    def _report_scale(self, st, announce: bool = False) -> None:
        """Latched ``~/scale`` (std_msgs/String: ``relative``, ``metric:camera_height``, ``metric:speed_topic``)
        and ``~/scale/factor`` (std_msgs/Float32: the factor applied to network depth and translation), sent when
        either changes; the console says which scale the outputs carry at start and whenever the label changes."""
        from std_msgs.msg import Float32, String
        sent = self._scale_sent
        if sent is None or sent[0] != st.label or abs(st.factor - sent[1]) > 1e-6 * max(1.0, abs(sent[1])):
            self.scale_pub.publish(String(data=st.label))
            self.scale_factor_pub.publish(Float32(data=float(st.factor)))
            self._scale_sent = (st.label, float(st.factor))
        if not (announce or sent is None or sent[0] != st.label):
            return
        mode = self.scale.mode
        if st.label == 'relative':
            wait = '' if mode == 'relative' else f' until scale_mode {mode} has its first estimate'
            self.get_logger().info(
                f'scale: RELATIVE{wait}: depth, points, motion and odometry are in the network\'s own scale, not '
                'metres (an unknown global factor; the odometry covariance is "unknown"); scale_mode camera_height '
                'or speed_topic makes them metric (~/scale says which)')
        else:
            self.get_logger().info(f'scale: {st.label}: outputs in metres (factor {st.factor:.4g}; {st.detail})')

    def _restart_diagnostics_timer(self) -> None:
        """``diagnostics_period`` changed at run time: the timer is recreated with the new period."""
        self.destroy_timer(self.diag_timer)
        self.diag_timer = self.create_timer(self.p['diagnostics_period'], lambda: publish_diagnostics(self),
                                            callback_group=self._timer_group)

    def _unsubscribe_speed(self) -> None:
        """Drop the speed subscription and its last value (``speed_topic``/``speed_type`` changed)."""
        if self._speed_sub is not None:
            self.destroy_subscription(self._speed_sub)
            self._speed_sub = None
        self._speed = None

    def _maybe_subscribe_speed(self) -> None:
        if self.p['scale_mode'] != 'speed_topic' or self._speed_sub is not None or self.image_sub is None:
            return  # not wanted, already there, or not active (activation subscribes it)
        if self.p['speed_type'] == 'odometry':
            from nav_msgs.msg import Odometry as SpeedMsg
            get = lambda m: m.twist.twist.linear  # noqa: E731
        else:
            from geometry_msgs.msg import TwistStamped as SpeedMsg
            get = lambda m: m.twist.linear  # noqa: E731

        def on_speed(msg):
            v = get(msg)
            self._speed = float(np.linalg.norm([v.x, v.y, v.z]))
        self._speed_sub = self.create_subscription(SpeedMsg, self.p['speed_topic'], on_speed, 10,
                                                   callback_group=self._input_group)

    def _report_backend(self) -> None:
        """The backend the model runs on, at start and after each load: INFO, or WARN when the asked-for backend
        is not used (unavailable, failed parity) or does not apply (an exported file)."""
        info = self.model_info
        if 'backend' not in info:  # a stand-in predictor (tests) without backends
            return
        line = f"backend: {info['backend_detail']}"
        if info.get('backend_fallback') or info.get('backend_note'):
            self.get_logger().warning(line + (f"; {info['backend_note']}" if info.get('backend_note') else ''))
        else:
            self.get_logger().info(line)

    def _warn(self, kind: str, text: str, period_s: float = 5.0) -> None:
        """A specific warning, throttled per ``kind``."""
        now = time.monotonic()
        if now - self._warned.get(kind, -1e9) >= period_s:
            self._warned[kind] = now
            self.get_logger().warning(text)

    # -- callbacks (never block) -------------------------------------------------------------------------
    def _on_image(self, msg) -> None:
        stamp = cv.time_to_ns(msg.header.stamp)
        self.gaps.observe(stamp)
        self.pairer.add_image(msg, stamp, time.monotonic_ns())

    def _on_info(self, msg: CameraInfo) -> None:
        try:
            K = cv.camera_info_K(msg)
        except ValueError as exc:
            self._warn('camera_info_bad', f'ignoring CameraInfo on {self.info_sub.topic_name}: {exc}')
            return
        d = [float(x) for x in msg.d]
        if any(x != 0.0 for x in d):  # peers (depth_anything, rtabmap) expect rectified input too
            self._warn('distortion', f'CameraInfo on {self.info_sub.topic_name} has distortion ({msg.distortion_model} '
                       f'D={[round(x, 4) for x in d]}): this node expects rectified images (e.g. image_proc '
                       'rectify_node -> image_rect) and ignores D; depth, points and odometry assume a pinhole '
                       'camera with K', period_s=600.0)
        self.pairer.add_info(cv.time_to_ns(msg.header.stamp), K, (int(msg.height), int(msg.width)))

    def _on_incompatible_sub(self, event) -> None:
        self.get_logger().warning(
            f'incompatible QoS with a publisher of an input topic ({qos_policy_name_from_kind(event.last_policy_kind)}'
            '): this node subscribes best-effort, volatile, depth 1 (sensor data), which accepts reliable and '
            'best-effort publishers; check the camera driver\'s durability/deadline/liveliness settings')

    def _on_incompatible_pub(self, event, topic: str = 'an output') -> None:
        self.get_logger().warning(
            f'a subscriber of {topic} requests QoS this node does not offer '
            f'({qos_policy_name_from_kind(event.last_policy_kind)}): outputs are reliable, volatile, depth 5, so '
            'subscribe with volatile durability (e.g. `ros2 topic echo --qos-durability volatile ...`); '
            'reliable and best-effort subscribers both match')

    # -- worker ------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while self._running:
            frame = self.pairer.take(time.monotonic_ns, timeout_s=0.05)
            if frame is None:
                continue
            try:
                self._process(frame)
            except Exception as exc:  # noqa: BLE001 - one bad frame must not kill the node
                self._warn('process', f'frame {frame.stamp_ns} skipped: {type(exc).__name__}: {exc}')

    def _decode(self, msg) -> np.ndarray:
        if isinstance(msg, CompressedImage):
            arr = compressed_to_numpy(msg)
            arr = np.repeat(arr[:, :, None], 3, 2) if arr.ndim == 2 else arr[:, :, :3]
            return to_rgb8(arr, 'rgb8') if arr.dtype == np.uint8 else to_rgb8(arr[:, :, 0], 'mono16')
        return to_rgb8(image_to_numpy(msg), msg.encoding)

    def _process(self, frame: Frame) -> None:
        topics = f'{self.image_sub.topic_name} / {self.info_sub.topic_name}'
        try:
            rgb = self._decode(frame.msg)
        except ValueError as exc:
            self._warn('decode', f'cannot use image on {self.image_sub.topic_name}: {exc}')
            return
        K = frame.K
        if frame.note:
            self._warn('pairing', f'{frame.note} ({topics})')
        if K is not None and frame.info_size != rgb.shape[:2]:
            self._warn('info_size', f'CameraInfo is {frame.info_size} but the image is {rgb.shape[:2]} ({topics}); '
                       'ignoring its intrinsics')
            K = None
        gap = self.gaps.check(frame.stamp_ns, getattr(self.predictor, 'frame_interval_s', None),
                              float(self.p['max_time_gap']))
        if gap:
            self.predictor.reset(gap)
            self._warn('frames_dropped', f'{gap} (node too slow for the camera rate, or the camera drops frames; '
                       'odometry misses that motion: /diagnostics counts these pairs)')
        gen = self._reset_gen
        pred = self.predictor.predict(rgb, K, frame.stamp_ns)
        if pred.reset_reason:
            self._last_reset = pred.reset_reason
        with self._lock:
            if gen != self._reset_gen:  # ~/reset while this frame was in the network: its pair predates the reset
                pred.ego = None
            self._publish(frame, pred, self.p)


class PerceptionNode(PerceptionCore, Node):
    """See the module docstring: configured and active from construction (raises with the reason when a
    parameter or the model is refused). ``predictor_factory(params) -> Predictor-like`` is for tests/benchmarks."""

    def __init__(self, node_name: str = 'selfdepth', *, predictor_factory: Callable | None = None, **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        self._declare(predictor_factory)
        self._configure()
        self._activate()
