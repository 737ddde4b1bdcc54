"""TF as peers do it (issue 12): the camera mount comes from TF, the node publishes only ``odom → base`` (or
``odom → camera`` when no ``base_frame`` is set), and it never gives an existing frame a second parent.

- Mount lookup ``base_frame → camera optical frame``: a tf2_ros ``Buffer`` + ``TransformListener`` when tf2_ros is
  importable (a real ROS install), else :class:`FrameTree`, a minimal listener on ``/tf_static`` (transient local,
  as static broadcasters publish) and ``/tf`` that keeps the newest transform of each child frame — enough for
  the static chain of a URDF mount (no interpolation in time). When the lookup fails, the typed ``camera_mount``
  parameter is the fallback, with a throttled WARN saying so.
- Ownership: :class:`FrameTree` records every parent seen for each frame (the node's own transform excluded).
  :meth:`TfOutput.send` publishes nothing for a child that already has another parent (a URDF's optical frame
  under ``camera_link``, say) and WARNs once, naming the frames and the fix (set ``base_frame``). tf2 keeps one
  parent per frame; a second one makes the tree jump between two parents.
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from . import conversions as cv
from .odometry import rpy_pose

TF_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
TF_STATIC_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""tf2_ros's listener/broadcaster QoS: ``/tf`` reliable volatile, ``/tf_static`` reliable transient local."""
MAX_DEPTH = 64  # frames in one chain; a deeper one is a loop


def transform_to_matrix(tr) -> np.ndarray:
    """``geometry_msgs/Transform`` → 4×4 pose (raises ValueError when not finite or a zero quaternion)."""
    q = [tr.rotation.x, tr.rotation.y, tr.rotation.z, tr.rotation.w]
    t = [tr.translation.x, tr.translation.y, tr.translation.z]
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(t)) and np.linalg.norm(q) > 1e-9):
        raise ValueError(f'non-finite or zero transform (t={t}, q={q})')
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = cv.quaternion_to_rotation(q), t
    return T


class FrameTree:
    """``/tf_static`` + ``/tf`` → for each child frame its newest parent transform, and every parent seen."""

    def __init__(self, node, callback_group=None) -> None:
        from tf2_msgs.msg import TFMessage
        self._lock = threading.Lock()
        self._edges: dict[str, tuple[str, np.ndarray]] = {}     # child -> (parent, T_parent_child)
        self._parents: dict[str, dict[str, str]] = {}           # child -> {parent: topic it was seen on}
        self.own: set[tuple[str, str]] = set()                  # (parent, child) this node publishes itself
        self.subscriptions = [
            node.create_subscription(TFMessage, topic, lambda msg, topic=topic: self.add(msg, topic), qos,
                                     callback_group=callback_group)
            for topic, qos in (('/tf_static', TF_STATIC_QOS), ('/tf', TF_QOS))]

    def add(self, msg, topic: str) -> None:
        for t in msg.transforms:
            parent, child = t.header.frame_id.lstrip('/'), t.child_frame_id.lstrip('/')
            if not parent or not child or parent == child:
                continue
            try:
                T = transform_to_matrix(t.transform)
            except ValueError:
                continue
            with self._lock:
                if (parent, child) in self.own:  # our own transform, heard back
                    continue
                self._edges[child] = (parent, T)
                self._parents.setdefault(child, {}).setdefault(parent, topic)

    def parents(self, frame: str) -> dict[str, str]:
        """Every parent another publisher gave ``frame`` → the topic it was seen on."""
        with self._lock:
            return dict(self._parents.get(frame, {}))

    def _ancestors(self, frame: str) -> list[tuple[str, np.ndarray]]:
        """``[(frame, I), (parent, T_parent_frame), (grandparent, T_grandparent_frame), …]`` up to the root."""
        chain, T, seen = [(frame, np.eye(4))], np.eye(4), {frame}
        with self._lock:
            while frame in self._edges and len(chain) < MAX_DEPTH:
                parent, T_pc = self._edges[frame]
                if parent in seen:
                    break
                T = T_pc @ T
                chain.append((parent, T))
                seen.add(parent)
                frame = parent
        return chain

    def root(self, frame: str) -> str:
        return self._ancestors(frame)[-1][0]

    def lookup(self, target: str, source: str) -> tuple[np.ndarray | None, str]:
        """``(T_target_source, '')`` through the closest common ancestor, or ``(None, why not)``."""
        up_source = dict(self._ancestors(source))
        for frame, T_frame_target in self._ancestors(target):
            if frame in up_source:
                return np.linalg.inv(T_frame_target) @ up_source[frame], ''
        with self._lock:
            known = sorted(set(self._edges) | {p for p, _ in self._edges.values()})
        return None, (f'{target} and {source} are not connected; frames in TF: {", ".join(known[:12]) or "none"}'
                      + (' …' if len(known) > 12 else ''))

    def destroy(self, node) -> None:
        for sub in self.subscriptions:
            node.destroy_subscription(sub)
        self.subscriptions = []


class _Tf2Lookup:
    """tf2_ros ``Buffer`` + ``TransformListener`` (a real ROS install): time-aware lookups of the whole tree."""

    def __init__(self, node) -> None:
        import tf2_ros
        self._tf2 = tf2_ros
        self.buffer = tf2_ros.Buffer()
        self.listener = tf2_ros.TransformListener(self.buffer, node, spin_thread=False)

    def lookup(self, target: str, source: str) -> tuple[np.ndarray | None, str]:
        from rclpy.time import Time
        try:
            t = self.buffer.lookup_transform(target, source, Time())  # the newest: a mount is static
        except (self._tf2.LookupException, self._tf2.ConnectivityException, self._tf2.ExtrapolationException) as exc:
            return None, str(exc).strip() or type(exc).__name__
        return transform_to_matrix(t.transform), ''

    def destroy(self, node) -> None:
        self.listener.unregister()


class TfOutput:
    """The node's TF: the mount lookup (with the ``camera_mount`` fallback) and a sender that never re-parents."""

    def __init__(self, node, warn: Callable[..., None]) -> None:
        self.node, self._warn = node, warn
        self._refused: dict[tuple[str, str], str] = {}  # (parent, child) -> why it is not published
        self.mount_source = 'none'
        self.published: str | None = None
        self.tree = self._tf2 = self._send = self._pub = None
        try:
            from tf2_msgs.msg import TFMessage
        except ImportError:
            node.get_logger().warning('tf2_msgs is not importable: no TF output and no TF lookups '
                                      '(run `python -m selfdepth_ros.nodes.tf2_msgs_gen`)')
            return
        self.tree = FrameTree(node)
        try:
            self._tf2 = _Tf2Lookup(node)
            broadcaster = self._tf2._tf2.TransformBroadcaster(node)
            self._send, self._pub = broadcaster.sendTransform, broadcaster.pub_tf
        except ImportError:  # no tf2_ros (PyPI wheels): the TFMessage wire format on /tf is the same
            self._pub = node.create_publisher(TFMessage, '/tf', TF_QOS)
            self._send = lambda t: self._pub.publish(cv.tf_message([t]))

    @property
    def status(self) -> str:
        """One line for /diagnostics: what is published, where the mount comes from, any refused transform."""
        parts = [f'publishing {self.published}' if self.published else 'no transform published']
        if self.mount_source != 'none':
            parts.append(f'mount from {self.mount_source}')
        parts += [f'refused {parent} → {child}: {why}' for (parent, child), why in self._refused.items()]
        return '; '.join(parts)

    def lookup(self, target: str, source: str) -> tuple[np.ndarray | None, str]:
        if self._tf2 is not None:
            return self._tf2.lookup(target, source)
        if self.tree is not None:
            return self.tree.lookup(target, source)
        return None, 'tf2_msgs is not importable'

    def mount(self, base: str, camera: str, fallback) -> np.ndarray:
        """``T_base_camera`` from TF; else the ``camera_mount`` parameter (x y z roll pitch yaw), with a WARN."""
        T, reason = self.lookup(base, camera)
        if T is not None:
            if self.mount_source != 'TF':
                xyz = ', '.join(f'{v:.3f}' for v in T[:3, 3])
                self.node.get_logger().info(f'camera mount {base} → {camera} from TF (translation {xyz} m)')
            self.mount_source = 'TF'
            return T
        self.mount_source = 'the camera_mount parameter'
        self._warn('tf_mount', f'TF: no transform {base} → {camera} ({reason}); using the camera_mount parameter '
                   f'{[float(v) for v in fallback]} (x y z roll pitch yaw) instead. Publish the mount in TF '
                   '(robot_state_publisher with the URDF, or tf2_ros static_transform_publisher), or set '
                   'camera_mount', period_s=10.0)
        return rpy_pose(fallback)

    def send(self, T_parent_child: np.ndarray, stamp_ns: int, parent: str, child: str, base_set: bool) -> bool:
        """Publish ``parent → child`` unless ``child`` already has another parent in TF (then WARN once)."""
        if self._send is None:
            return False
        if self.tree is not None:
            with self.tree._lock:
                self.tree.own.add((parent, child))
            others = {p: topic for p, topic in self.tree.parents(child).items() if p != parent}
            if others:
                if (parent, child) not in self._refused:
                    self._refuse(parent, child, others, base_set)
                return False
        self._send(cv.transform_msg(T_parent_child, stamp_ns, parent, child))
        self.published = f'{parent} → {child}'
        return True

    def _refuse(self, parent: str, child: str, others: dict[str, str], base_set: bool) -> None:
        seen = ', '.join(f'{p} (on {topic})' for p, topic in others.items())
        root = self.tree.root(child)
        fix = (f'set base_frame to the root of that tree (e.g. base_frame:={root}): the node then looks the camera '
               f'mount up in TF and publishes {parent} → {root} only' if not base_set else
               f'set base_frame to the root of that tree (base_frame:={root}), or leave TF to the node that owns '
               f'{child} (publish_tf:=false)')
        self._refused[(parent, child)] = f'{child} already has the parent {seen}'
        self.node.get_logger().warning(
            f'TF: {child} already has the parent {seen}; publishing {parent} → {child} would give it a second '
            f'parent, so this node publishes no TF (~/odom is unaffected). Fix: {fix}')

    def destroy(self) -> None:
        for part in (self.tree, self._tf2):
            if part is not None:
                part.destroy(self.node)
        if self._pub is not None:
            self.node.destroy_publisher(self._pub)
        self.tree = self._tf2 = self._send = self._pub = None
