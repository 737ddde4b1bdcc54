"""The ``selfdepth`` perception node: camera frames in; depth, odometry, TF, motion field, points out.

Inputs (remappable): ``image`` (``sensor_msgs/Image`` any common encoding, or ``CompressedImage`` with
``image_transport: compressed``) and ``camera_info``, sensor-data QoS, depth 1 (the newest frame wins; drops
are counted). Callbacks only store messages; a worker thread decodes, runs the ``Predictor`` and publishes,
so parameter services, timers and subscriptions never wait for the network.

Outputs, stamped with the input image's stamp, in the camera's optical frame:
``~/depth/image`` (32FC1 metres or relative, NaN invalid) + its sibling ``~/depth/camera_info`` (at the published
resolution; image_transport's ``<image namespace>/camera_info`` rule, so rviz2's DepthCloud and depth_image_proc
find it), the same image on the older ``~/depth``, ``~/odom`` + TF odom → camera (or base), ``~/motion`` (32FC3
``T_obj`` of the pair t−1 → t, indexed by the pixels of frame t−1, cam_t axes, metres per frame interval; at the
network resolution unless ``motion_resolution: input``) + ``~/motion/visual`` (rgb8 colour wheel) +
``~/motion/camera_info``, optional ``~/points``, and ``/diagnostics``. Service ``~/reset`` (std_srvs/Trigger):
odometry back to identity. Input is expected rectified: a CameraInfo
with non-zero distortion gets a throttled warning and ``D`` is ignored. Each image/cloud/odometry output is
built and sent only while it has subscribers; odometry state, TF and diagnostics are always kept.
Which scale the outputs carry: the latched ``~/scale`` (std_msgs/String ``relative``, ``metric:camera_height`` or
``metric:speed_topic``) and ``~/scale/factor`` (std_msgs/Float32), an INFO line at start and on each change, and
the ``/diagnostics`` status ``<node>: scale`` (keys ``scale``, ``metric``, ``factor``).
"""
from __future__ import annotations

import re
import sys
import threading
import time
from typing import Any, Callable

import numpy as np
import rclpy
from rcl_interfaces.msg import SetParametersResult
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.exceptions import ParameterException
from rclpy.executors import Executor, ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import (DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_policy_name_from_kind,
                       qos_profile_sensor_data)
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from ..image_codec import compressed_to_numpy, image_to_numpy, to_rgb8
from . import conversions as cv
from .frame_gaps import FrameGapGuard
from .odometry import OdometryIntegrator, camera_to_base, rpy_pose
from .pairing import FramePairer, Frame
from .params import SPECS, descriptor, validate
from .scale import ScaleEstimator
from .stats import RollingStats

try:  # rclpy >= Iron
    from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
except ImportError:  # pragma: no cover - Humble
    from rclpy.qos_event import PublisherEventCallbacks, SubscriptionEventCallbacks

OUTPUT_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)  # reliable matches every subscriber
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""``~/scale`` and ``~/scale/factor``: a subscriber that joins late still gets the current value."""


def default_predictor(p: dict[str, Any]):
    """Build the real ``Predictor`` from the node's parameters (checkpoint, device, preset, input size).

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
                     input_size=size if any(size) else None)


class PerceptionNode(Node):
    """See the module docstring. ``predictor_factory(params) -> Predictor-like`` is for tests and benchmarks."""

    def __init__(self, node_name: str = 'selfdepth', *, predictor_factory: Callable | None = None, **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        for spec in SPECS:
            self.declare_parameter(spec.name, spec.default, descriptor(spec))
        self.p = {s.name: self.get_parameter(s.name).value for s in SPECS}
        self.p['camera_mount'] = list(self.p['camera_mount'])
        bad = [r for r in (validate(k, v) for k, v in self.p.items()) if r]
        if bad:
            raise ValueError('invalid parameters: ' + '; '.join(bad))
        self.predictor = (predictor_factory or default_predictor)(self.p)
        self.model_info = self.predictor.describe()
        self.pairer = FramePairer(wait_ns=int(self.p['camera_info_wait'] * 1e9))
        self.stats = RollingStats()
        self.odom = OdometryIntegrator(self.p['odom_translation_noise'], self.p['odom_rotation_noise'])
        self._configure_scale(self.p)
        self._warned: dict[str, float] = {}
        self._prev_stamp_ns: int | None = None
        self.gaps = FrameGapGuard()
        self._gap_resets_reported = 0
        self._last_reset = 'none yet'
        self._last_reload = 'none'
        self._speed: float | None = None
        self._speed_sub = None
        self._lock = threading.Lock()  # guards self.p / scale / odom between the worker and parameter callbacks
        inputs, timers = MutuallyExclusiveCallbackGroup(), MutuallyExclusiveCallbackGroup()
        sub_events = SubscriptionEventCallbacks(incompatible_qos=self._on_incompatible_sub)
        img_type = CompressedImage if self.p['image_transport'] == 'compressed' else Image
        self.image_sub = self.create_subscription(img_type, 'image', self._on_image, qos_profile_sensor_data,
                                                  callback_group=inputs, event_callbacks=sub_events)
        self.info_sub = self.create_subscription(CameraInfo, 'camera_info', self._on_info, qos_profile_sensor_data,
                                                 callback_group=inputs, event_callbacks=sub_events)
        def mk(msg_type, name):
            events = PublisherEventCallbacks(incompatible_qos=lambda e: self._on_incompatible_pub(e, pub.topic_name))
            pub = self.create_publisher(msg_type, name, OUTPUT_QOS, event_callbacks=events)
            return pub
        # image_transport's sibling rule (camera_info = <image topic's namespace>/camera_info): rviz2's DepthCloud
        # and depth_image_proc find ~/depth/camera_info from ~/depth/image, ~/motion/camera_info from ~/motion/visual.
        self.depth_image_pub, self.depth_info_pub = mk(Image, '~/depth/image'), mk(CameraInfo, '~/depth/camera_info')
        self.depth_pub = mk(Image, '~/depth')  # the older name (replay/eval bags record it); same message
        self.motion_pub, self.motion_visual_pub = mk(Image, '~/motion'), mk(Image, '~/motion/visual')
        self.motion_info_pub = mk(CameraInfo, '~/motion/camera_info')
        from nav_msgs.msg import Odometry
        from diagnostic_msgs.msg import DiagnosticArray
        from sensor_msgs.msg import PointCloud2
        self.odom_pub, self.points_pub = mk(Odometry, '~/odom'), mk(PointCloud2, '~/points')
        self.diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        from std_msgs.msg import Float32, String
        self.scale_pub = self.create_publisher(String, '~/scale', LATCHED_QOS)
        self.scale_factor_pub = self.create_publisher(Float32, '~/scale/factor', LATCHED_QOS)
        self._scale_sent: tuple[str, float] | None = None
        self._report_scale(self.scale.update(), announce=True)
        self._tf_send = self._make_tf_sender()
        from std_srvs.srv import Trigger
        self._reset_gen = 0  # bumped by ~/reset: a frame in flight across a reset adds no odometry step
        self.reset_srv = self.create_service(Trigger, '~/reset', self._on_reset, callback_group=timers)
        self._speed_group = inputs
        self._maybe_subscribe_speed()
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.diag_timer = self.create_timer(self.p['diagnostics_period'], self._publish_diagnostics,
                                            callback_group=timers)
        self._start_ns = time.monotonic_ns()
        self._running = True
        self._worker = threading.Thread(target=self._work, name='selfdepth-worker', daemon=True)
        self._worker.start()
        self.get_logger().info(f"listening on {self.image_sub.topic_name} + {self.info_sub.topic_name}; "
                               f"model {self.model_info.get('checkpoint')} on {self.model_info.get('device')}")

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

    def _maybe_subscribe_speed(self) -> None:
        if self.p['scale_mode'] != 'speed_topic' or self._speed_sub is not None:
            return
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
                                                   callback_group=self._speed_group)

    def _make_tf_sender(self) -> Callable | None:
        try:
            from tf2_ros import TransformBroadcaster
            broadcaster = TransformBroadcaster(self)
            return broadcaster.sendTransform
        except ImportError:
            pass
        try:
            from tf2_msgs.msg import TFMessage
        except ImportError:
            self.get_logger().warning('neither tf2_ros nor tf2_msgs importable: no TF output '
                                   '(run `python -m selfdepth_ros.nodes.tf2_msgs_gen`)')
            return None
        pub = self.create_publisher(TFMessage, '/tf', QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
        return lambda t: pub.publish(cv.tf_message([t]))

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

    def _on_set_parameters(self, params) -> SetParametersResult:
        new = dict(self.p)
        for prm in params:
            reason = validate(prm.name, prm.value)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
            new[prm.name] = list(prm.value) if prm.name == 'camera_mount' else prm.value
        if any(prm.name == 'checkpoint' for prm in params):  # set again = load again (the file may have changed)
            reason = self._reload(new['checkpoint'])
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        with self._lock:
            if any(new[k] != self.p[k] for k in ('scale_mode', 'camera_height', 'scale_window')):
                self._configure_scale(new)
                self._report_scale(self.scale.update(), announce=new['scale_mode'] != self.p['scale_mode'])
            if hasattr(self.predictor, 'max_gap_s'):
                self.predictor.max_gap_s = new['max_time_gap']
            self.pairer.wait_ns = int(new['camera_info_wait'] * 1e9)
            self.p = new
        self._maybe_subscribe_speed()
        return SetParametersResult(successful=True)

    def _reload(self, value: str) -> str | None:
        """Hot reload for ``checkpoint := value``: None when done, else the reason (the old weights stay).

        ``'shipped'`` or a path loads that file with its own architecture and settings; ``''`` installs the
        untrained ``model_preset`` network and says so. Either way the frame pair resets (odometry goes on).
        """
        from ..checkpoint import resolve_checkpoint
        old = self.model_info.get('checkpoint')
        try:
            path = resolve_checkpoint(value)
            self.predictor.load(path)
        except Exception as exc:  # noqa: BLE001 - any load failure is a rejected parameter, not a crash
            reason = f'checkpoint: cannot load {value!r}: {exc}; still using {old}'
            self.get_logger().error(reason)
            self._last_reload = f'refused {value!r}: {exc}'
            return reason
        self.model_info = self.predictor.describe()
        info = self.model_info
        if path is None:
            self._last_reload = 'untrained network'
            self.get_logger().warning(
                f"checkpoint '': now running an UNTRAINED network (model_preset {self.p['model_preset']}, "
                f"net {info.get('net_size')}): depth and motion are meaningless until weights are loaded")
        else:
            self._last_reload = f'loaded {path}'
            self.get_logger().info(f"hot-reloaded weights from {path} (step {info.get('step')}, net "
                                   f"{info.get('net_size')}, min_depth {info.get('min_depth')}); frame pair reset")
        return None

    def _on_reset(self, request, response):
        """``~/reset`` (std_srvs/Trigger): odometry back to identity (odom = the current pose) and a new frame pair."""
        with self._lock:
            self.odom.reset()
            self.predictor.reset('odometry reset (~/reset)')
            self.gaps.forget()
            self._prev_stamp_ns = None
            self._reset_gen += 1
            child = self.p['base_frame'] or self.p['camera_frame'] or 'the camera frame'
            odom = self.p['odom_frame']
        self._last_reset = 'odometry reset (~/reset)'
        response.success = True
        response.message = f'odometry reset: {odom} is now the current pose of {child} (identity); frame pair reset'
        self.get_logger().info(response.message)
        return response

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
            p = self.p
            self._publish(frame, pred, p)

    @staticmethod
    def _wanted(pub, enabled: bool) -> bool:
        """Build and send this output only when it is enabled and someone subscribes (a 480×640 32FC3 is 3.6 MB)."""
        return enabled and pub.get_subscription_count() > 0

    def _publish(self, frame: Frame, pred, p: dict) -> None:
        stamp, cam = frame.stamp_ns, p['camera_frame'] or frame.msg.header.frame_id or 'camera_optical_frame'
        dt = (stamp - self._prev_stamp_ns) * 1e-9 if self._prev_stamp_ns is not None else None
        self._prev_stamp_ns = stamp
        ego = pred.ego
        if ego is not None and not (np.all(np.isfinite(ego[0])) and np.all(np.isfinite(ego[1]))):
            self._warn('nan', f'non-finite ego-motion for frame {stamp}; pair reset, odometry not updated')
            self.predictor.reset('non-finite ego-motion')
            ego = None
        st = self.scale.update(depth=pred.depth_net, K=pred.K_net, speed_mps=self._speed, dt_s=dt,
                               translation=None if ego is None else ego[1])
        self.scale_state = st
        self._report_scale(st)
        net = p['output_resolution'] == 'network'
        depth_pubs = [pub for pub in (self.depth_image_pub, self.depth_pub) if self._wanted(pub, p['publish_depth'])]
        want_depth, want_info = bool(depth_pubs), self._wanted(self.depth_info_pub, p['publish_depth'])
        want_points = self._wanted(self.points_pub, p['publish_points'])
        K_out = pred.K_net if net else pred.K
        if want_depth or want_points:
            depth = np.multiply(pred.depth_net if net else pred.depth, np.float32(st.factor), dtype=np.float32)
            depth[~(np.isfinite(depth) & (depth > 0))] = np.nan  # REP 118: NaN where invalid (in place, no copy)
            if not np.isfinite(depth).any():
                self._warn('nan', f'frame {stamp}: the network produced no finite depth')
            if want_depth:
                msg = cv.image_msg(depth, '32FC1', stamp, cam)
                for pub in depth_pubs:
                    pub.publish(msg)
            if want_points:
                self.points_pub.publish(cv.pointcloud2_msg(self._points(depth, K_out, p['points_stride']), stamp, cam))
        if want_info:
            h, w = (pred.depth_net if net else pred.depth).shape
            self.depth_info_pub.publish(cv.camera_info_msg(K_out, w, h, stamp, cam))
        self._publish_motion(pred, p, st.factor, stamp, cam)
        if ego is not None:
            self.odom.step(ego[0], ego[1] * st.factor, dt)
        self._publish_odom(stamp, cam, p, st.metric)
        self.stats.add(time.monotonic_ns(), pred.latency_ms, (time.monotonic_ns() - frame.received_ns) * 1e-6)

    def _publish_motion(self, pred, p: dict, factor: float, stamp: int, cam: str) -> None:
        """``~/motion`` (32FC3), ``~/motion/visual`` (rgb8) and ``~/motion/camera_info`` of the pair t−1 → t, stamped
        with frame t, indexed by the pixels of frame t−1 (docs/CONVENTIONS.md, "Node outputs")."""
        net = p['motion_resolution'] == 'network'
        motion = pred.motion_net if net else pred.motion
        if motion is None or not p['publish_motion']:
            return
        want_raw, want_vis, want_info = (self._wanted(pub, True) for pub in (
            self.motion_pub, self.motion_visual_pub, self.motion_info_pub))
        if want_raw or want_vis:
            motion = np.multiply(motion, np.float32(factor), dtype=np.float32)
        if want_raw:
            self.motion_pub.publish(cv.image_msg(motion, '32FC3', stamp, cam))
        if want_vis:
            from .visual import motion_to_rgb
            rgb, _ = motion_to_rgb(motion, p['motion_visual_scale'])
            self.motion_visual_pub.publish(cv.image_msg(rgb, 'rgb8', stamp, cam))
        if want_info:
            h, w = motion.shape[:2]
            self.motion_info_pub.publish(cv.camera_info_msg(pred.K_net if net else pred.K, w, h, stamp, cam))

    @staticmethod
    def _points(depth: np.ndarray, K: np.ndarray, stride: int) -> np.ndarray:
        from .scale import backproject
        return backproject(depth, K, slice(None), slice(None), stride).astype(np.float32)  # skips NaN pixels

    def _publish_odom(self, stamp: int, cam: str, p: dict, metric: bool) -> None:
        T, child, linear, angular = self.odom.T_odom_cam, cam, self.odom.linear, self.odom.angular
        if p['base_frame']:
            T, linear, angular = camera_to_base(T, linear, angular, rpy_pose(p['camera_mount']))
            child = p['base_frame']
        if self._wanted(self.odom_pub, p['publish_odom']):
            pose_cov, twist_cov = self.odom.covariance(metric)  # isotropic per block: the same in any axes
            self.odom_pub.publish(cv.odometry_msg(T, stamp, p['odom_frame'], child, linear, angular,
                                                  pose_cov, twist_cov))
        if p['publish_tf'] and self._tf_send is not None:
            self._tf_send(cv.transform_msg(T, stamp, p['odom_frame'], child))

    # -- diagnostics -------------------------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        now = time.monotonic_ns()
        s = self.stats.summary(now)
        last = self.pairer.last_pair_ns
        idle_s = (now - (last if last is not None else self._start_ns)) * 1e-9
        topics = f'{self.image_sub.topic_name} and {self.info_sub.topic_name}'
        level, message = 'OK', f"{s['rate_hz']:.1f} Hz"
        if idle_s > self.p['no_pair_warn']:
            level, message = 'WARN', f'no Image/CameraInfo pair for {idle_s:.1f} s on {topics}'
            # On the console too (throttled), with what did arrive: that tells a wrong remap from a stamp mismatch.
            self._warn('no_pair', f'{message} (received {self.pairer.received} images, '
                       f'{self.pairer.infos_received} CameraInfo so far): check the remaps and that the camera '
                       'publishes both', period_s=max(10.0, float(self.p['no_pair_warn'])))
        nominal, source = self.gaps.nominal(getattr(self.predictor, 'frame_interval_s', None))
        new_gap_resets, self._gap_resets_reported = self.gaps.resets - self._gap_resets_reported, self.gaps.resets
        if new_gap_resets and level == 'OK':
            level, message = 'WARN', (f'{new_gap_resets} frame pair(s) reset since the last report: frames dropped '
                                      f'(a pair spanned > {self.gaps.factor:g}x the nominal frame interval); '
                                      'odometry was not updated for them')
        values = {**{k: f'{v:.2f}' for k, v in s.items()}, 'frames_processed': self.stats.total,
                  'nominal_frame_interval_s': 'unknown' if nominal is None else f'{nominal:.4f}',
                  'nominal_frame_interval_source': source, 'pairs_reset_frames_dropped': self.gaps.resets,
                  'frames_dropped': self.pairer.dropped, 'images_received': self.pairer.received,
                  'camera_infos_received': self.pairer.infos_received, 'image_topic': self.image_sub.topic_name,
                  'camera_info_topic': self.info_sub.topic_name, 'last_reset': self._last_reset,
                  'model': self.model_info.get('checkpoint'), 'net_size': self.model_info.get('net_size'),
                  'last_reload': self._last_reload,
                  'device': self.model_info.get('device')}
        st = getattr(self, 'scale_state', None)
        scale = {'scale_mode': self.p['scale_mode'], 'scale': st.label if st else 'relative',
                 'metric': bool(st and st.metric), 'factor': f'{st.factor:.6g}' if st else '1',
                 'detail': st.detail if st else 'no frame yet'}
        name = self.get_fully_qualified_name()
        self.diag_pub.publish(cv.diagnostic_array(self.get_clock().now().nanoseconds, [
            (f'{name}: perception', level, message, values),
            (f'{name}: scale', 'OK', scale['scale'], scale)], hardware_id=name))

    def destroy_node(self) -> None:
        self._running = False
        worker = getattr(self, '_worker', None)  # absent when __init__ failed (bad parameter, missing checkpoint)
        if worker is not None and worker.is_alive():
            worker.join(timeout=5.0)
        super().destroy_node()


EXECUTORS = ('single', 'multi')


def make_executor(kind: str = 'single', context=None) -> Executor:
    """The executor :func:`spin` runs the node with.

    'single' (default): callbacks only store messages and the network runs in the node's worker thread, so
    one thread serves every callback without blocking, and each message skips the thread-pool hand-off of
    the MultiThreadedExecutor (measured by ``bench/node_latency.py --executor``). 'multi': 3 threads.
    """
    if kind not in EXECUTORS:
        raise ValueError(f'executor must be one of {EXECUTORS}, got {kind!r}')
    if kind == 'multi':
        return MultiThreadedExecutor(num_threads=3, context=context)
    return SingleThreadedExecutor(context=context)


def _rcl_reason(exc: Exception) -> str:
    """An ``RCLError`` message without rcl's ``, at /path/file.c:123`` trail."""
    return re.sub(r',? at [^,]*\.c:\d+', '', str(exc)).strip()


def spin(node_factory: Callable[[], Node], args: list[str] | None = None, executor: str = 'single') -> int:
    """``rclpy.init(args)`` → build the node → spin it (:func:`make_executor`) until Ctrl-C / shutdown.

    A bad argument or parameter value, a missing or unreadable checkpoint: one line on stderr, exit code 2.
    """
    from rclpy.impl.implementation_singleton import rclpy_implementation
    RCLError = rclpy_implementation.RCLError
    try:
        context = rclpy.init(args=args)
    except RCLError as exc:  # a malformed --ros-args rule or parameter file (e.g. a list mixing 0 and 0.0)
        hint = ' (a list parameter takes one type: write 0.0, not 0, in a list of floats)' \
            if 'same type' in str(exc) else ''
        print(f'selfdepth: cannot parse the ROS arguments: {_rcl_reason(exc)}{hint}', file=sys.stderr)
        return 2
    with context:
        try:
            node = node_factory()
        except (ValueError, ParameterException, FileNotFoundError, RCLError) as exc:  # rejected, with the reason
            print(f'selfdepth: {type(exc).__name__}: {exc}', file=sys.stderr)
            return 2
        ex = make_executor(executor)
        ex.add_node(node)
        try:
            ex.spin()
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            node.destroy_node()
    return 0


def with_default_remaps(args: list[str]) -> list[str]:
    """Add ``image:=/camera/image_raw`` / ``camera_info:=/camera/camera_info`` unless ``args`` remap them."""
    from .run import INPUT_DEFAULTS
    given = {args[i + 1].split(':=')[0] for i, a in enumerate(args[:-1]) if a in ('-r', '--remap')}
    extra = [x for src, dst in INPUT_DEFAULTS.items() if src not in given for x in ('-r', f'{src}:={dst}')]
    return list(args) + (['--ros-args'] + extra if extra else [])  # several --ros-args sections are allowed


def main(args: list[str] | None = None) -> int:
    """Console entry point ``perception_node`` (what ``ros2 run`` / the launch files start)."""
    return spin(PerceptionNode, with_default_remaps(sys.argv if args is None else args))


if __name__ == '__main__':
    sys.exit(main())
