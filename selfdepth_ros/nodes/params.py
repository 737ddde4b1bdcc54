"""Parameters of the perception node: one table with defaults, descriptors and validation.

``config/perception.yaml``, the launch files and ``selfdepth run`` all feed these names. A wrong value is
rejected with a reason (at start-up: the node refuses to start with that reason; at run time: the
``ros2 param set`` answer carries it) instead of crashing the node.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from ..backend_names import CHOICES as BACKEND_CHOICES
from .scale import SCALE_MODES


@dataclass(frozen=True)
class Spec:
    name: str
    default: Any
    description: str
    read_only: bool = False            # only settable at start-up (YAML, --param, launch)
    choices: tuple[str, ...] | None = None
    low: float | None = None           # inclusive numeric bounds
    high: float | None = None
    check: Callable[[Any], str | None] | None = None  # extra rule: returns the reason or None


def _device(v: str) -> str | None:
    return None if re.fullmatch(r'auto|cpu|cuda(:\d+)?', v) else "must be 'auto', 'cpu' or 'cuda[:N]'"


def _net_side(v: int) -> str | None:
    return None if v == 0 or (v >= 32 and v % 32 == 0) else 'must be 0 (from the checkpoint) or a multiple of 32 ≥ 32'


def _frame(v: str) -> str | None:
    return None if re.fullmatch(r'[A-Za-z0-9_./-]*', v) and not v.startswith('/') else \
        'must be a tf2 frame id (letters, digits, _ . - /, no spaces, no leading /)'


DEFAULT_CAMERA_FRAME = 'camera_optical_frame'


def output_frame(incoming: str) -> tuple[str, str | None]:
    """The frame id the outputs get when ``camera_frame`` is empty: the input image's, with a leading '/' dropped
    (ROS 1 style; tf2 refuses it), or ``DEFAULT_CAMERA_FRAME`` when that is empty or still not a tf2 frame id.
    Returns ``(frame, why it differs from incoming)``, the reason None when it is used as it is."""
    if not incoming:
        return DEFAULT_CAMERA_FRAME, f"the image has no header.frame_id: using '{DEFAULT_CAMERA_FRAME}'"
    stripped = incoming.lstrip('/')
    if stripped and _frame(stripped) is None:
        return stripped, None if stripped == incoming else \
            f"image header.frame_id {incoming!r} has a leading '/', which tf2 refuses: using {stripped!r}"
    return DEFAULT_CAMERA_FRAME, (f'image header.frame_id {incoming!r} is not a tf2 frame id (letters, digits, '
                                  f"_ . - /, no spaces): using '{DEFAULT_CAMERA_FRAME}'; set camera_frame")


def _frame_required(v: str) -> str | None:
    return 'must not be empty (a tf2 frame id is required)' if not v else _frame(v)


def _mount(v: list) -> str | None:
    return None if len(v) == 6 else 'must be 6 numbers: x y z (m) roll pitch yaw (rad) of the camera in base_frame'


SPECS: tuple[Spec, ...] = (
    Spec('checkpoint', 'shipped', "trained weights (.pt path, or a file of selfdepth export: either graph of an "
         "ONNX/TorchScript export, its .json sidecars beside it); 'shipped' = the model installed with the package "
         "(selfdepth_ros/data/selfdepth_small.pt); '' = untrained network (model_preset). Setting it at run time "
         "(the same path too) hot-reloads with the checkpoint's own architecture and settings; a refused file "
         "(missing, damaged, non-finite) keeps the old weights"),
    Spec('device', 'auto', "'auto' (CUDA when available), 'cpu' or 'cuda[:N]'", read_only=True, check=_device),
    Spec('backend', 'auto', "where the nets run: 'auto' (the fastest of the backends available here that pass "
         "parity with eager, measured at load), 'torch' (eager), 'compile' (torch.compile: minutes to build on a "
         "CPU), 'torchscript', 'onnxruntime', 'fp16' or 'tensorrt' (CUDA only). Checked against eager at load; a "
         "backend that is unavailable or fails parity falls back to eager with a WARN. An exported file "
         "(checkpoint: x.depth.onnx) runs in its own runtime. Set at run time: the model is loaded again on it",
         choices=BACKEND_CHOICES),
    Spec('model_preset', 'default', "architecture when checkpoint is '': 'default' (001) or 'small' (CPU)",
         read_only=True, choices=('default', 'small')),
    Spec('input_height', 0, 'network input height in pixels (0 = from the checkpoint/preset)', read_only=True,
         check=_net_side),
    Spec('input_width', 0, 'network input width in pixels (0 = from the checkpoint/preset)', read_only=True,
         check=_net_side),
    Spec('image_transport', 'raw', "'raw' (sensor_msgs/Image on `image`) or 'compressed' (CompressedImage)",
         read_only=True, choices=('raw', 'compressed')),
    Spec('output_resolution', 'input', "'input' (camera size) or 'network' (net size) for depth and points",
         choices=('input', 'network')),
    Spec('motion_resolution', 'network', "'network' (net size, default: 48x less data than a 480x640 32FC3) or "
         "'input' (bilinearly upsampled to the camera size) for ~/motion", choices=('input', 'network')),
    Spec('publish_depth', True, 'publish ~/depth/image + ~/depth/camera_info (and the older ~/depth; each only '
         'while it has subscribers)'),
    Spec('publish_odom', True, 'publish ~/odom'),
    Spec('publish_tf', True, 'broadcast odom_frame -> base_frame (or -> the camera frame without base_frame); '
         'never for a frame that already has a parent in TF'),
    Spec('publish_motion', True, 'publish ~/motion (32FC3 object translation field), ~/motion/visual (rgb8 colour '
         'wheel) and ~/motion/camera_info'),
    Spec('motion_visual_scale', 0.0, '~/motion/visual: |T_obj| in m per frame interval shown at full brightness '
         '(0 = each frame\'s 99th percentile)', low=0.0, high=100.0),
    Spec('publish_points', False, 'publish ~/points (PointCloud2 from depth)'),
    Spec('points_stride', 4, 'take every Nth pixel per row and column for ~/points', low=1, high=64),
    Spec('odom_frame', 'odom', 'frame of ~/odom and the TF parent (required)', check=_frame_required),
    Spec('camera_frame', '', "optical frame of the outputs ('' = the image's header.frame_id)", check=_frame),
    Spec('base_frame', '', "the robot's base frame: TF odom -> base_frame only, with the mount base_frame -> camera "
         "looked up in TF (odom = the first base pose, level like the vehicle); '' = TF odom -> camera frame "
         "(odom = the first optical pose), refused with a WARN when the camera frame already has a parent in TF",
         check=_frame),
    Spec('camera_mount', [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
         'x y z roll pitch yaw of the camera frame in base_frame: the fallback when TF has no base_frame -> camera '
         '(a throttled WARN says so)', check=_mount),
    Spec('max_time_gap', 0.5, 'a larger gap (s) between frames resets the frame pair', low=1e-3, high=60.0),
    Spec('camera_info_wait', 0.2, 's to wait for the CameraInfo of an image before using the latest one',
         low=0.0, high=5.0),
    Spec('no_pair_warn', 3.0, 'WARN (console, throttled, and /diagnostics) naming both topics when no '
         'Image/CameraInfo pair arrived for this long (s)', low=0.1, high=3600.0),
    Spec('diagnostics_period', 1.0, 'seconds between /diagnostics messages (set at run time: the timer restarts)',
         low=0.05, high=60.0),
    Spec('scale_mode', 'relative', 'relative | camera_height | speed_topic (see docs of selfdepth_ros.nodes.scale)',
         choices=SCALE_MODES),
    Spec('camera_height', 1.5, 'camera height above the ground plane in metres (scale_mode camera_height)',
         low=0.05, high=100.0),
    Spec('scale_window', 9, 'median over this many per-frame scale estimates', low=1, high=1000),
    Spec('speed_topic', 'speed', 'speed source topic (scale_mode speed_topic); set at run time, the old topic is '
         'unsubscribed and its last speed forgotten'),
    Spec('speed_type', 'twist', "'twist' (geometry_msgs/TwistStamped) or 'odometry' (nav_msgs/Odometry); set at "
         "run time, the speed source is subscribed again", choices=('twist', 'odometry')),
    Spec('odom_translation_noise', 0.05, 'odometry covariance model: std per metre travelled (set at run time: from '
         'the next step on)', low=0.0, high=10.0),
    Spec('odom_rotation_noise', 0.05, 'odometry covariance model: std per radian turned (set at run time: from the '
         'next step on)', low=0.0, high=10.0),
)
BY_NAME = {s.name: s for s in SPECS}


def descriptor(spec: Spec) -> ParameterDescriptor:
    """The ROS ParameterDescriptor (description, read-only flag, ranges) of one spec."""
    text = spec.description + (f" (one of: {', '.join(spec.choices)})" if spec.choices else '')
    d = ParameterDescriptor(name=spec.name, description=text, read_only=spec.read_only)
    if spec.low is not None and isinstance(spec.default, bool) is False:
        if isinstance(spec.default, int):
            d.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high), step=1)]
        elif isinstance(spec.default, float):
            d.floating_point_range = [FloatingPointRange(from_value=float(spec.low), to_value=float(spec.high))]
    return d


def validate(name: str, value: Any) -> str | None:
    """None when ``value`` is acceptable for parameter ``name``, else the reason (naming it and what is expected)."""
    spec = BY_NAME.get(name)
    if spec is None:
        return None  # not ours (use_sim_time, …)
    want = type(spec.default)
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if want is list and not isinstance(value, (str, bytes)) and hasattr(value, '__len__'):
        value = list(value)  # rclpy hands arrays over as array.array
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        return f'{name}: expected {want.__name__}, got {type(value).__name__} {value!r}'
    if spec.choices and value not in spec.choices:
        return f'{name}: {value!r} is not one of {spec.choices}'
    if spec.low is not None and not spec.low <= value <= spec.high:
        return f'{name}: {value!r} outside [{spec.low:g}, {spec.high:g}]'
    if spec.check is not None:
        reason = spec.check(value)
        if reason:
            return f'{name}: {value!r} {reason}'
    return None
