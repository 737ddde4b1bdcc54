"""Run-time control of the perception node: parameter changes, checkpoint hot reload and ``~/reset``.

A mixin of :class:`selfdepth_ros.nodes.node.PerceptionCore`. Before the node is configured (the lifecycle
variant, unconfigured) a parameter change is only validated: ``configure`` reads the values.
"""
from __future__ import annotations

from rcl_interfaces.msg import SetParametersResult

from .params import validate


class NodeControl:
    """``_on_set_parameters`` (every parameter validated; hot reload; scale, pairing, odometry-noise, speed-source
    and diagnostics-period settings applied) and ``_on_reset`` (the ``~/reset`` service).

    Applied at run time besides the checkpoint: ``backend`` (the model is loaded again on it),
    ``scale_*``/``camera_height`` (a new estimator), ``max_time_gap``, ``camera_info_wait``,
    ``odom_translation_noise``/``odom_rotation_noise`` (from the next odometry step; the variance so far stays),
    ``speed_topic``/``speed_type`` (the old speed subscription is dropped and its last speed forgotten),
    ``diagnostics_period`` (the timer is recreated). The rest are read only (the parameter descriptor says so and
    rclpy refuses with "read-only").
    """

    def _on_set_parameters(self, params) -> SetParametersResult:
        for prm in params:
            reason = validate(prm.name, prm.value)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        if self.predictor is None:  # not configured: configure reads the values
            return SetParametersResult(successful=True)
        new = dict(self.p)
        for prm in params:
            new[prm.name] = list(prm.value) if prm.name == 'camera_mount' else prm.value
        # checkpoint set again = load again (the file may have changed); a new backend = load again on it
        if any(prm.name == 'checkpoint' for prm in params) or new['backend'] != self.p['backend']:
            reason = self._reload(new['checkpoint'], new['backend'])
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        with self._lock:
            if any(new[k] != self.p[k] for k in ('scale_mode', 'camera_height', 'scale_window')):
                self._configure_scale(new)
                self._report_scale(self.scale.update(), announce=new['scale_mode'] != self.p['scale_mode'])
            if hasattr(self.predictor, 'max_gap_s'):
                self.predictor.max_gap_s = new['max_time_gap']
            self.pairer.wait_ns = int(new['camera_info_wait'] * 1e9)
            # the covariance model applies from the next step on (the variance accumulated so far stays)
            self.odom.translation_noise = float(new['odom_translation_noise'])
            self.odom.rotation_noise = float(new['odom_rotation_noise'])
            old = self.p
            self.p = new
        if (new['speed_topic'], new['speed_type']) != (old['speed_topic'], old['speed_type']):
            self._unsubscribe_speed()  # the next lines subscribe the new source (when scale_mode speed_topic)
        try:
            self._maybe_subscribe_speed()
        except Exception as exc:  # noqa: BLE001 - e.g. the topic exists in this process with another type
            reason = (f"speed_topic/speed_type: cannot subscribe {new['speed_topic']!r} as {new['speed_type']}: "
                      f'{exc}; no speed source now')
            self.get_logger().error(reason)
            return SetParametersResult(successful=False, reason=reason)
        if new['diagnostics_period'] != old['diagnostics_period'] and self.diag_timer is not None:
            self._restart_diagnostics_timer()
        return SetParametersResult(successful=True)

    def _reload(self, value: str, backend: str) -> str | None:
        """Hot reload for ``checkpoint := value`` on ``backend``: None when done, else the reason (the old weights
        and backend stay).

        ``'shipped'``, a path or an exported file loads that file with its own architecture and settings; ``''``
        installs the untrained ``model_preset`` network and says so. Either way the frame pair resets (odometry
        goes on). The backend line is logged again (WARN when the asked-for backend is not used).
        """
        from ..checkpoint import resolve_checkpoint
        old, old_backend = self.model_info.get('checkpoint'), getattr(self.predictor, 'backend', None)
        try:
            path = resolve_checkpoint(value)
            if old_backend is not None:
                self.predictor.backend = backend
            self.predictor.load(path)
        except Exception as exc:  # noqa: BLE001 - any load failure is a rejected parameter, not a crash
            if old_backend is not None:
                self.predictor.backend = old_backend
            reason = f'checkpoint: cannot load {value!r} (backend {backend}): {exc}; still using {old}'
            self.get_logger().error(reason)
            self._last_reload = f'refused {value!r}: {exc}'
            return reason
        self.model_info = self.predictor.describe()
        self._report_backend()
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
