"""The perception node as a ROS 2 managed (lifecycle) node, and the choice between the two variants.

Transitions (``ros2 lifecycle set /selfdepth configure``, …, or a lifecycle manager such as nav2's), each one
phase of :class:`selfdepth_ros.nodes.node.PerceptionCore`:

- **configure**: parameters checked, the model loaded, outputs (lifecycle publishers: silent until active), TF
  and ``~/reset`` created. A refused parameter or model (missing, junk, damaged or non-finite checkpoint) fails
  the transition cleanly: FAILURE, back to *unconfigured*, an ERROR line with the reason (also
  :attr:`PerceptionLifecycleNode.last_failure`); set ``checkpoint`` and configure again.
- **activate**: outputs enabled, inputs subscribed, diagnostics timer and worker started.
- **deactivate**: worker stopped (the frame in the network finishes), inputs and timer destroyed; outputs silent.
- **cleanup**: outputs, TF and ``~/reset`` destroyed, the model released. **shutdown**: whatever exists released.

Selected with ``lifecycle:=true`` (``launch/perception.launch.py``) or ``selfdepth run --lifecycle``; with
``autostart`` it configures and activates itself at start (a refusal: one line, exit 2), else it waits
unconfigured for a manager.
"""
from __future__ import annotations

from typing import Callable

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from .node import PerceptionCore, PerceptionNode

NODE_NAME = 'selfdepth'


class PerceptionLifecycleNode(PerceptionCore, LifecycleNode):
    """Declares its parameters at construction; everything else happens in the transitions (module doc)."""

    def __init__(self, node_name: str = NODE_NAME, *, predictor_factory: Callable | None = None, **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        self.last_failure: str | None = None
        self._declare(predictor_factory)

    def _new_publisher(self, msg_type, name, qos, events):
        return self.create_lifecycle_publisher(msg_type, name, qos, event_callbacks=events)

    def _destroy_output(self, pub) -> None:
        self.destroy_lifecycle_publisher(pub)

    def _failed(self, transition: str, exc: Exception) -> TransitionCallbackReturn:
        self.last_failure = f'{transition} failed: {type(exc).__name__}: {exc}'
        self.get_logger().error(self.last_failure)
        return TransitionCallbackReturn.FAILURE

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self._configure()
        except Exception as exc:  # noqa: BLE001 - a refused parameter or model fails the transition, not the node
            self._cleanup()  # whatever was created before the refusal
            return self._failed('configure', exc)
        self.last_failure = None
        self.get_logger().info(f"configured: model {self.model_info.get('checkpoint')} on "
                               f"{self.model_info.get('device')}; activate to start processing")
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        ret = super().on_activate(state)  # outputs first: activation announces the scale on the latched topics
        if ret != TransitionCallbackReturn.SUCCESS:
            return ret
        try:
            self._activate()
        except Exception as exc:  # noqa: BLE001
            self._deactivate()
            super().on_deactivate(state)
            return self._failed('activate', exc)
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._deactivate()
        self.get_logger().info('deactivated: inputs unsubscribed, outputs silent')
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._cleanup()
        self.get_logger().info('cleaned up: model released, outputs destroyed')
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._deactivate()
        self._cleanup()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._deactivate()
        self._cleanup()
        return TransitionCallbackReturn.SUCCESS  # back to unconfigured


def autostart(node: PerceptionLifecycleNode) -> str | None:
    """Configure, then activate ``node``: None when active, else the reason (already logged)."""
    for name, trigger in (('configure', node.trigger_configure), ('activate', node.trigger_activate)):
        if trigger() != TransitionCallbackReturn.SUCCESS:
            return node.last_failure or f'{name} failed'
    return None


def wait_for_manager(node: PerceptionLifecycleNode) -> None:
    """No autostart: say how to drive the node."""
    name = node.get_fully_qualified_name()
    node.get_logger().info(f'lifecycle node unconfigured: `ros2 lifecycle set {name} configure`, then `activate` '
                           '(or a lifecycle manager)')


def node_variant(name: str = NODE_NAME, lifecycle: bool = False, start: bool = False) -> tuple[Callable, Callable]:
    """``(factory, start)`` for :func:`selfdepth_ros.nodes.executor.spin`: the plain node, or the lifecycle node
    left unconfigured (``start=False``) or configured and activated at start (``start=True``)."""
    if not lifecycle:
        if start:
            raise ValueError('autostart applies to the lifecycle node only (the plain node always starts)')
        return (lambda: PerceptionNode(name)), None
    return (lambda: PerceptionLifecycleNode(name)), (autostart if start else wait_for_manager)
