"""``selfdepth replay``: play a bag's camera into the live node graph over DDS and record what the node publishes.

    selfdepth replay --checkpoint CKPT --bag BAG --out OUT_BAG [--mode lockstep|realtime] [--rate R]
    selfdepth eval --pred-bag OUT_BAG --bag BAG

The bag's ``Image`` (or ``CompressedImage``) and ``CameraInfo`` messages are published unchanged (header stamps
and frame ids preserved) to a perception node built in this process from the same parameter file, remaps and
node class as ``selfdepth run`` (or to one already running: ``--external-node``). Its outputs (``~/depth``,
``~/depth/camera_info``, ``~/odom``, ``~/motion``, ``/tf``, ``/diagnostics``) go into a new rosbag2 (MCAP).

Modes:
- ``lockstep`` (default): send a frame, wait for its ``~/depth``, then send the next. Nothing is dropped and
  the recording is deterministic, so scores are reproducible; the per-frame delay is still measured.
- ``realtime`` (``--rate R`` alone selects it): send at the bag's pace × R. The node keeps only the newest
  frame (input queue depth 1), so a node slower than the camera drops frames and the scores show it.

Receive times: each recorded message is written with the bag time of the input frame it answers (that frame's
receive time in the input bag) plus the wall time from sending the frame to receiving the output; messages
answering no frame (``/diagnostics``) are timed from the last frame sent. ``log time − stamp`` of ``~/depth``
is then the graph's end-to-end delay, which ``selfdepth eval --pred-bag`` reports as latency.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from selfdepth_ros.bag import messages as m
from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.eval.replay_io import (DIAGNOSTICS_TOPIC, IMAGE_TYPES, Frame, ReceiveClock, Recorder,
                                          camera_frames, message_class)
from selfdepth_ros.nodes.run import NODE_NAME, build_ros_args, config_dir

MODES = ('lockstep', 'realtime')
NODE_OUTPUTS = {'depth': m.IMAGE, 'depth/camera_info': m.CAMERA_INFO, 'odom': m.ODOMETRY, 'motion': m.IMAGE}
"""Outputs under the node's private namespace (``/[NS/]selfdepth/…``) → message type."""
TF_TOPIC, TF_TYPE = '/tf', 'tf2_msgs/msg/TFMessage'
DIAGNOSTICS_TYPE = 'diagnostic_msgs/msg/DiagnosticArray'


@dataclass
class ReplayOptions:
    """What :func:`replay` plays, into which node, and where it records."""

    bag: Path
    out: Path
    checkpoint: Path | None = None
    """Weights for the in-process node; None = an untrained ``small`` network (say so to the user)."""
    mode: str = 'lockstep'
    rate: float = 1.0
    """Real-time factor in ``realtime`` mode (2.0 = twice as fast as recorded)."""
    image_topic: str = '/camera/image_raw'
    camera_info_topic: str | None = '/camera/camera_info'
    config: Path | None = None
    """Node parameter YAML (default ``config/perception.yaml``)."""
    params: list[str] = field(default_factory=list)
    """Extra ``name:=value`` node parameters, applied after the YAML."""
    namespace: str = ''
    external_node: bool = False
    record_diagnostics: bool = True
    max_frames: int | None = None
    frame_timeout_s: float = 30.0
    """Lockstep: give a frame up as dropped when its depth has not arrived after this long."""
    discovery_timeout_s: float = 30.0
    progress: bool = True

    def __post_init__(self) -> None:
        self.bag, self.out = Path(self.bag), Path(self.out)
        if self.mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {self.mode!r}')
        if not (np.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f'rate must be a finite number > 0, got {self.rate!r}')
        if self.max_frames is not None and self.max_frames < 1:
            raise ValueError(f'max_frames must be >= 1 or None, got {self.max_frames!r}')
        if self.out.exists():
            raise ValueError(f'out: {self.out} exists already; choose a new path (bags are never overwritten)')
        if self.checkpoint is not None and not self.external_node and not Path(self.checkpoint).is_file():
            raise ValueError(f'checkpoint: {self.checkpoint} does not exist')

    @property
    def output_prefix(self) -> str:
        """``/selfdepth`` or ``/NS/selfdepth``: where the node's private topics live."""
        ns = self.namespace.strip('/')
        return f'/{ns}/{NODE_NAME}' if ns else f'/{NODE_NAME}'


@dataclass
class ReplayResult:
    """Counts of one replay. ``delays_ms``: per received frame, receive of ``~/depth`` − send of the frame."""

    out: Path
    mode: str
    sent: int
    received: int
    delays_ms: list[float]
    counts: dict[str, int]
    wall_s: float
    node_dropped: int | None = None
    """The node's own count of images replaced before processing (from ``/diagnostics``), if recorded."""

    @property
    def dropped(self) -> int:
        return self.sent - self.received

    def summary(self) -> str:
        pct = 100.0 * self.dropped / self.sent if self.sent else 0.0
        lines = [f'replay ({self.mode}): frames sent {self.sent}, received {self.received}, '
                 f'dropped {self.dropped} ({pct:.1f} %) in {self.wall_s:.1f} s']
        if self.delays_ms:
            p50, p90 = np.percentile(self.delays_ms, [50, 90])
            lines.append(f'graph delay (send → ~/depth received): p50 {p50:.1f} ms, p90 {p90:.1f} ms')
        if self.node_dropped is not None:
            lines.append(f'node diagnostics: {self.node_dropped} images dropped (newest frame wins)')
        lines.append(f'wrote {self.out}: ' + ', '.join(f'{t} {n}' for t, n in sorted(self.counts.items())))
        return '\n'.join(lines)


# -- the node -----------------------------------------------------------------------------------------------
class InProcessNode:
    """The perception node of ``selfdepth run`` (same ``build_ros_args``, same class) in its own rclpy context,
    spun in a background thread by the executor ``selfdepth run`` spins it with (``nodes.executor``)."""

    def __init__(self, ros_args: list[str], domain_id: int) -> None:
        import rclpy
        from selfdepth_ros.nodes.executor import BackgroundSpinner
        from selfdepth_ros.nodes.node import PerceptionNode
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        try:
            self.node = PerceptionNode(NODE_NAME, context=self.context, cli_args=ros_args)
        except Exception as exc:  # a rejected parameter or unloadable weights: say so, leave nothing running
            rclpy.shutdown(context=self.context)
            raise ValueError(f'the perception node refused to start: {type(exc).__name__}: {exc}') from exc
        self.spinner = BackgroundSpinner(self.node, context=self.context)
        self.executor = self.spinner.executor

    def matched(self) -> bool:
        """Both inputs see a publisher and ``~/depth`` sees a subscriber (the node's side of discovery)."""
        n = self.node
        return n.image_sub.get_publisher_count() > 0 and n.depth_pub.get_subscription_count() > 0

    def stop(self) -> None:
        import rclpy
        self.spinner.stop()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def node_ros_args(opts: ReplayOptions, image_msgtype: str) -> list[str]:
    """``--ros-args`` for the in-process node: the YAML, the bag's topics as inputs, weights, transport."""
    params = []
    if opts.checkpoint is not None:
        params.append(f'checkpoint:={Path(opts.checkpoint).resolve()}')
    else:  # the YAML's default is the shipped model: ask for the untrained one explicitly
        params += ["checkpoint:=''", 'model_preset:=small']
    if image_msgtype == m.COMPRESSED_IMAGE:
        params.append('image_transport:=compressed')
    remaps = {'image': opts.image_topic}
    if opts.camera_info_topic:
        remaps['camera_info'] = opts.camera_info_topic
    return build_ros_args(opts.config or config_dir() / 'perception.yaml', remaps, params + list(opts.params),
                          opts.namespace)


def _spin_until(executor, predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        executor.spin_once(timeout_sec=min(0.01, remaining))
    return True


def dds_environment() -> None:
    """Loopback-only discovery and the 16 MB shared-memory profile, unless the caller chose otherwise.
    Must run before the first rclpy context is initialised."""
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(config_dir() / 'fastdds_shm.xml'))


def _domain_id(external: bool) -> int:
    """ROS_DOMAIN_ID if set; else 0 for an external node (the ROS default) and a random one for our own graph
    (so concurrent replays on one machine never hear each other)."""
    if os.environ.get('ROS_DOMAIN_ID', '').isdigit():
        return int(os.environ['ROS_DOMAIN_ID'])
    return 0 if external else random.Random(os.getpid()).randint(1, 100)


# -- the replay ---------------------------------------------------------------------------------------------
def _play(frames: Iterator[Frame], total: int, pubs: dict, executor, rec: Recorder, clock: ReceiveClock,
          opts: ReplayOptions) -> int:
    """Send every frame (paced per mode), then wait for the last one's outputs; returns the frames sent."""
    from tqdm import tqdm
    bar = tqdm(total=total, unit='frame', desc=f'replay ({opts.mode})', disable=not opts.progress)
    start, last, sent = None, None, 0
    try:
        for frame in frames:
            if opts.mode == 'realtime':
                start = start or (time.monotonic_ns(), frame.log_ns)
                due = start[0] + (frame.log_ns - start[1]) / opts.rate
                _spin_until(executor, lambda: time.monotonic_ns() >= due, timeout_s=3600.0)
            clock.sent(frame.stamp_ns, frame.log_ns)
            for topic, _, data in frame.messages:
                pubs[topic].publish(data)
            sent, last = sent + 1, frame.stamp_ns
            if opts.mode == 'lockstep':
                _spin_until(executor, lambda: frame.stamp_ns in rec.synced, opts.frame_timeout_s)
            bar.update(1)
            bar.set_postfix(received=len(rec.synced), refresh=False)
        if last is not None:  # the newest frame is never replaced, so its outputs must come
            _spin_until(executor, lambda: last in rec.synced, opts.frame_timeout_s)
        _spin_until(executor, lambda: False, 0.3)  # the last frame's odom/motion/tf, already on the wire
        bar.set_postfix(received=len(rec.synced))
    finally:
        bar.close()
    return sent


def replay(opts: ReplayOptions) -> ReplayResult:
    """Play ``opts.bag`` into the node graph and record its outputs into ``opts.out`` (see the module doc)."""
    with BagReader(opts.bag) as bag:
        info = bag.require(opts.image_topic, IMAGE_TYPES)
        total = info.count if opts.max_frames is None else min(info.count, opts.max_frames)
        info_topic = opts.camera_info_topic if opts.camera_info_topic in bag.topics else None
    dds_environment()
    domain = _domain_id(opts.external_node)
    prefix = opts.output_prefix
    topics = {f'{prefix}/{suffix}': msgtype for suffix, msgtype in NODE_OUTPUTS.items()}
    try:
        message_class(TF_TYPE)
        topics[TF_TOPIC] = TF_TYPE
    except ImportError:
        pass  # no tf2_msgs here: TF is not recorded (the node cannot publish it either)
    if opts.record_diagnostics:
        topics[DIAGNOSTICS_TOPIC] = DIAGNOSTICS_TYPE
    t0 = time.monotonic()
    try:
        return _replay_graph(opts, info, total, info_topic, domain, prefix, topics, t0)
    except TimeoutError:  # nothing played: the bag this run created holds nothing of it, so it goes
        _remove_bag(opts.out)
        raise


def _remove_bag(path: Path) -> None:
    import shutil
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _replay_graph(opts: ReplayOptions, info, total: int, info_topic: str | None, domain: int, prefix: str,
                  topics: dict[str, str], t0: float) -> ReplayResult:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from selfdepth_ros.bag.writer import BagWriter
    with ExitStack() as stack:  # unwinds in reverse: bag closed, player gone, then the node stopped
        graph = None
        if not opts.external_node:
            graph = InProcessNode(node_ros_args(opts, info.msgtype), domain)
            stack.callback(graph.stop)
        context = rclpy.Context()
        rclpy.init(context=context, domain_id=domain)
        stack.callback(rclpy.shutdown, context=context)
        player = rclpy.create_node('selfdepth_replay', context=context)
        stack.callback(player.destroy_node)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(player)
        stack.callback(executor.shutdown)
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        pubs = {opts.image_topic: player.create_publisher(message_class(info.msgtype), opts.image_topic, qos)}
        if info_topic:
            pubs[info_topic] = player.create_publisher(message_class(m.CAMERA_INFO), info_topic, qos)
        clock = ReceiveClock()
        writer = stack.enter_context(BagWriter(opts.out))
        rec = Recorder(player, writer, topics, clock, f'{prefix}/depth')
        _wait_for_graph(executor, pubs, rec, graph, opts)
        frames = camera_frames(opts.bag, opts.image_topic, info_topic, opts.max_frames)
        sent = _play(frames, total, pubs, executor, rec, clock, opts)
        counts = dict(writer.counts)
    delays = [d for d in rec.synced.values() if d is not None]
    return ReplayResult(opts.out, opts.mode, sent, len(rec.synced), delays, counts, time.monotonic() - t0,
                        rec.node_dropped)


def _wait_for_graph(executor, pubs: dict, rec: Recorder, graph: InProcessNode | None, opts: ReplayOptions) -> None:
    """Block until publishers and subscriptions are matched both ways (a first frame sent earlier is lost)."""
    def matched() -> bool:
        ours = all(p.get_subscription_count() > 0 for p in pubs.values()) and \
            rec.subscriptions[rec.sync_topic].get_publisher_count() > 0
        return ours and (graph is None or graph.matched())
    if not _spin_until(executor, matched, opts.discovery_timeout_s):
        where = ('the in-process node did not match' if graph is not None else
                 f'no running perception node matched (start `selfdepth run --remap image:={opts.image_topic}` '
                 f'with the same ROS_DOMAIN_ID, or drop --external-node)')
        raise TimeoutError(f'after {opts.discovery_timeout_s:.0f} s, {where}: subscribers of '
                           + ', '.join(f'{t}: {p.get_subscription_count()}' for t, p in pubs.items())
                           + f'; publishers of {rec.sync_topic}: '
                           + str(rec.subscriptions[rec.sync_topic].get_publisher_count())
                           + f'; no frame was sent and {opts.out} is not kept')
    if graph is None:
        _spin_until(executor, lambda: False, 1.0)  # the remote side's matching is not visible from here


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='selfdepth replay', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--checkpoint', help="weights for the node; 'shipped' = the installed model; 'none' = untrained "
                                        'small network (not with --external-node, which uses whatever that node runs)')
    p.add_argument('--bag', type=Path, required=True, help='input bag with the camera topics')
    p.add_argument('--out', type=Path, required=True, help='output bag to create (MCAP; must not exist)')
    p.add_argument('--mode', choices=MODES, default=None, help='lockstep (default) or realtime')
    p.add_argument('--rate', type=float, default=None, help='real-time factor; alone it selects --mode realtime')
    p.add_argument('--image-topic', default='/camera/image_raw', help='Image or CompressedImage topic to play')
    p.add_argument('--camera-info-topic', default='/camera/camera_info', help="CameraInfo topic ('none' = skip)")
    p.add_argument('--config', type=Path, default=None, help='node parameter YAML (default config/perception.yaml)')
    p.add_argument('--param', action='append', default=[], metavar='NAME:=VALUE', help='node parameter override')
    p.add_argument('--namespace', default='', help='node namespace (outputs under /NS/selfdepth/...)')
    p.add_argument('--external-node', action='store_true', help='use an already running node; start none')
    p.add_argument('--no-diagnostics', action='store_true', help='do not record /diagnostics')
    p.add_argument('--max-frames', type=int, default=None, help='play only the first N frames')
    p.add_argument('--frame-timeout', type=float, default=30.0, help='lockstep: s to wait for one frame')
    p.add_argument('--discovery-timeout', type=float, default=30.0, help='s to wait for the graph to connect')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p


def options_from_args(args: argparse.Namespace) -> ReplayOptions:
    """Check the argument combinations and build :class:`ReplayOptions` (ValueError naming the argument)."""
    if args.mode == 'lockstep' and args.rate is not None:
        raise ValueError('--rate applies to --mode realtime (lockstep sends as fast as the node keeps up)')
    if args.checkpoint is None and not args.external_node:
        raise ValueError("--checkpoint is required (a .pt file, or 'none' for an untrained network)")
    none = args.checkpoint is None or args.checkpoint.lower() == 'none'
    if args.checkpoint == 'shipped':  # the model installed with the package (the node's default)
        from selfdepth_ros.checkpoint import SHIPPED_PATH
        args.checkpoint = str(SHIPPED_PATH)
    info = None if args.camera_info_topic.lower() in ('', 'none') else args.camera_info_topic
    return ReplayOptions(
        bag=args.bag, out=args.out, checkpoint=None if none else Path(args.checkpoint),
        mode=args.mode or ('realtime' if args.rate is not None else 'lockstep'),
        rate=1.0 if args.rate is None else args.rate, image_topic=args.image_topic, camera_info_topic=info,
        config=args.config, params=args.param, namespace=args.namespace, external_node=args.external_node,
        record_diagnostics=not args.no_diagnostics, max_frames=args.max_frames,
        frame_timeout_s=args.frame_timeout, discovery_timeout_s=args.discovery_timeout, progress=not args.quiet)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        opts = options_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    if opts.checkpoint is None and not opts.external_node:
        print('selfdepth replay: WARNING: --checkpoint none: the node runs an UNTRAINED small network',
              file=sys.stderr)
    elif opts.checkpoint is not None and not opts.external_node:
        from selfdepth_ros.checkpoint import CheckpointError, load_checkpoint
        from selfdepth_ros.exported import is_export, read_export
        try:  # a junk or unsafe file (or an export missing a part): one line before any DDS is started
            read_export(opts.checkpoint) if is_export(opts.checkpoint) else load_checkpoint(opts.checkpoint)
        except CheckpointError as exc:
            print(f'selfdepth replay: {exc}', file=sys.stderr)
            return 2
    try:
        result = replay(opts)
    except (BagError, TimeoutError, ValueError) as exc:
        print(f'selfdepth replay: {exc}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f'selfdepth replay: interrupted; {opts.out} holds what was recorded so far', file=sys.stderr)
        return 130
    print(result.summary())
    print(f'score it: selfdepth eval --pred-bag {opts.out} --bag {opts.bag}')
    return 0 if result.received > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
