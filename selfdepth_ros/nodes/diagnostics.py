"""The perception node's ``/diagnostics``: one ``<node>: perception`` status (rate, latency, drops, pairs reset,
model, TF) and one ``<node>: scale`` status, plus the throttled console WARN when no Image/CameraInfo pair
arrives (it names both topics and what did arrive: that tells a wrong remap from a stamp mismatch)."""
from __future__ import annotations

import time

from . import conversions as cv


def publish_diagnostics(node) -> None:
    """Publish one ``DiagnosticArray`` for ``node`` (a configured, active ``PerceptionCore``)."""
    now = time.monotonic_ns()
    s = node.stats.summary(now)
    last = node.pairer.last_pair_ns
    idle_s = (now - (last if last is not None else node._start_ns)) * 1e-9
    topics = f'{node.image_sub.topic_name} and {node.info_sub.topic_name}'
    level, message = 'OK', f"{s['rate_hz']:.1f} Hz"
    if idle_s > node.p['no_pair_warn']:
        level, message = 'WARN', f'no Image/CameraInfo pair for {idle_s:.1f} s on {topics}'
        node._warn('no_pair', f'{message} (received {node.pairer.received} images, '
                   f'{node.pairer.infos_received} CameraInfo so far): check the remaps and that the camera '
                   'publishes both', period_s=max(10.0, float(node.p['no_pair_warn'])))
    nominal, source = node.gaps.nominal(getattr(node.predictor, 'frame_interval_s', None))
    new_gap_resets, node._gap_resets_reported = node.gaps.resets - node._gap_resets_reported, node.gaps.resets
    if new_gap_resets and level == 'OK':
        level, message = 'WARN', (f'{new_gap_resets} frame pair(s) reset since the last report: frames dropped '
                                  f'(a pair spanned > {node.gaps.factor:g}x the nominal frame interval); '
                                  'odometry was not updated for them')
    info = node.model_info
    values = {**{k: f'{v:.2f}' for k, v in s.items()}, 'frames_processed': node.stats.total,
              'nominal_frame_interval_s': 'unknown' if nominal is None else f'{nominal:.4f}',
              'nominal_frame_interval_source': source, 'pairs_reset_frames_dropped': node.gaps.resets,
              'frames_dropped': node.pairer.dropped, 'images_received': node.pairer.received,
              'camera_infos_received': node.pairer.infos_received, 'image_topic': node.image_sub.topic_name,
              'camera_info_topic': node.info_sub.topic_name, 'last_reset': node._last_reset,
              'model': info.get('checkpoint'), 'net_size': info.get('net_size'), 'last_reload': node._last_reload,
              'device': info.get('device'), 'backend': info.get('backend_detail', 'torch'),
              'tf': node.tf.status if node.tf is not None else 'off'}
    st = node.scale_state
    scale = {'scale_mode': node.p['scale_mode'], 'scale': st.label if st else 'relative',
             'metric': bool(st and st.metric), 'factor': f'{st.factor:.6g}' if st else '1',
             'detail': st.detail if st else 'no frame yet'}
    name = node.get_fully_qualified_name()
    node.diag_pub.publish(cv.diagnostic_array(node.get_clock().now().nanoseconds, [
        (f'{name}: perception', level, message, values),
        (f'{name}: scale', 'OK', scale['scale'], scale)], hardware_id=name))
