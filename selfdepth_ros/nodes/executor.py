"""How the perception node is run: the executor, ``spin`` (what ``selfdepth run`` and ``ros2 run`` use) and a
background spinner (what ``selfdepth replay``'s in-process node uses), so all three run the node the same way.

This module knows nothing of the node class: callers pass a factory. ``node.py`` holds the node, ``run.py`` the
``selfdepth run`` arguments, ``perception_node.py`` the ``ros2 run`` entry point.
"""
from __future__ import annotations

import re
import sys
import threading
from typing import Callable

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import Executor, ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

EXECUTORS = ('single', 'multi')
DEFAULT_EXECUTOR = 'single'


def make_executor(kind: str = DEFAULT_EXECUTOR, context=None) -> Executor:
    """The executor the node runs with.

    'single' (default): callbacks only store messages and the network runs in the node's worker thread, so
    one thread serves every callback without blocking, and each message skips the thread-pool hand-off of
    the MultiThreadedExecutor (measured by ``bench/node_latency.py --executor``). 'multi': 3 threads.
    """
    if kind not in EXECUTORS:
        raise ValueError(f'executor must be one of {EXECUTORS}, got {kind!r}')
    if kind == 'multi':
        return MultiThreadedExecutor(num_threads=3, context=context)
    return SingleThreadedExecutor(context=context)


def rcl_reason(exc: Exception) -> str:
    """An ``RCLError`` message without rcl's ``, at /path/file.c:123`` trail."""
    return re.sub(r',? at [^,]*\.c:\d+', '', str(exc)).strip()


def spin(node_factory: Callable[[], Node], args: list[str] | None = None, executor: str = DEFAULT_EXECUTOR,
         start: Callable[[Node], str | None] | None = None) -> int:
    """``rclpy.init(args)`` → build the node → ``start(node)`` → spin it (:func:`make_executor`) until Ctrl-C.

    ``start`` (e.g. the lifecycle autostart) returns None when the node may spin, else the reason it may not.
    A bad argument or parameter value, a missing or unreadable checkpoint, a refused start: one line on stderr,
    exit code 2.
    """
    from rclpy.impl.implementation_singleton import rclpy_implementation
    RCLError = rclpy_implementation.RCLError
    try:
        context = rclpy.init(args=args)
    except RCLError as exc:  # a malformed --ros-args rule or parameter file (e.g. a list mixing 0 and 0.0)
        hint = ' (a list parameter takes one type: write 0.0, not 0, in a list of floats)' \
            if 'same type' in str(exc) else ''
        print(f'selfdepth: cannot parse the ROS arguments: {rcl_reason(exc)}{hint}', file=sys.stderr)
        return 2
    with context:
        try:
            node = node_factory()
        except (ValueError, ParameterException, FileNotFoundError, RCLError) as exc:  # rejected, with the reason
            print(f'selfdepth: {type(exc).__name__}: {exc}', file=sys.stderr)
            return 2
        try:
            refused = start(node) if start is not None else None
            if refused:
                print(f'selfdepth: {refused}', file=sys.stderr)
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


class BackgroundSpinner:
    """Spin ``node`` with :func:`make_executor` in a daemon thread (``selfdepth replay``'s in-process node)."""

    def __init__(self, node: Node, kind: str = DEFAULT_EXECUTOR, context=None, name: str = 'selfdepth-node'):
        self.executor = make_executor(kind, context=context)
        self.executor.add_node(node)
        self._thread = threading.Thread(target=self.executor.spin, name=name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self.executor.shutdown(timeout_sec=timeout_s)
        self._thread.join(timeout=timeout_s)
