"""What the perception node publishes for one processed frame: depth (+ sibling CameraInfo), points, motion
(+ visual, CameraInfo), odometry and TF (docs/CONVENTIONS.md "Perception node outputs").

A mixin of :class:`selfdepth_ros.nodes.node.PerceptionCore`, called by its worker under the node's lock. Each
image/cloud/odometry output is built only while it has subscribers; odometry state and TF are always kept.
"""
from __future__ import annotations

import time

import numpy as np

from . import conversions as cv
from .odometry import camera_to_base
from .params import output_frame
from .pairing import Frame


class PerceptionOutputs:
    """``_publish(frame, pred, params)`` and its parts."""

    @staticmethod
    def _wanted(pub, enabled: bool) -> bool:
        """Build and send this output only when it is enabled and someone subscribes (a 480×640 32FC3 is 3.6 MB)."""
        return enabled and pub.get_subscription_count() > 0

    def _publish(self, frame: Frame, pred, p: dict) -> None:
        stamp, cam = frame.stamp_ns, p['camera_frame']
        if not cam:
            cam, problem = output_frame(frame.msg.header.frame_id)
            if problem:
                self._warn('frame_id', f'{problem} (input {self.image_sub.topic_name})', period_s=30.0)
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
        """``~/odom`` and TF ``odom → base_frame`` (the mount ``base_frame → cam`` looked up in TF, else
        ``camera_mount``; assumed fixed) or, without ``base_frame``, ``odom → cam``; never a second parent."""
        T, child, linear, angular = self.odom.T_odom_cam, cam, self.odom.linear, self.odom.angular
        if p['base_frame']:
            T, linear, angular = camera_to_base(T, linear, angular, self.tf.mount(p['base_frame'], cam,
                                                                                  p['camera_mount']))
            child = p['base_frame']
        if self._wanted(self.odom_pub, p['publish_odom']):
            pose_cov, twist_cov = self.odom.covariance(metric)  # isotropic per block: the same in any axes
            self.odom_pub.publish(cv.odometry_msg(T, stamp, p['odom_frame'], child, linear, angular,
                                                  pose_cov, twist_cov))
        if p['publish_tf']:
            self.tf.send(T, stamp, p['odom_frame'], child, base_set=bool(p['base_frame']))
