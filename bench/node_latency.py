"""End-to-end node latency (image published → depth received): the node vs the bare Predictor, or the node on
each inference backend vs the node on eager PyTorch.

The nodes run in this process with the executor ``spin`` gives them (one thread each, as ``selfdepth run``); a
player/collector node on another executor thread talks to them over real DDS (loopback, SHM profile), so the
latency includes serialisation, transport, executor wake-ups, decoding, pairing, scaling and publishing.

Two comparisons, each measured side by side in one process (bench/ conventions: rounds interleaved, messages
built before the clock starts, the collector signals arrival with an Event, no polling thread stealing the GIL):

- default: one node vs a bare ``Predictor`` of the same configuration and seed on the same frames, alternating
  which goes first; the bare run starts only once the node has finished the frame (odometry/TF included).
  Writes ``node_latency.json``.
- ``--backends torch torchscript onnxruntime``: one node per backend (``backend`` parameter, same weights), each
  on its own input topics; every round each node gets the same frame in turn, the order rotated each round.
  Ratios are to the ``torch`` node (median and p10 of node latency, and of the node's own ``predict`` time).
  Writes ``node_backends.json``.

Frames of a block are consecutive (stamps 0.1 s apart), so the motion net runs and ``~/motion`` is published.
The node's own ``predict`` time is recorded too: ``ratio_vs_own_predict`` (median of per-frame node/own-predict)
is the least noisy figure on a loaded machine, since both halves come from the same frame.

    .venv/bin/python -m bench.node_latency --rounds 20 --preset small [--executor multi] [--param k:=v]
    .venv/bin/python -m bench.node_latency --backends torch torchscript onnxruntime --preset default --sizes 128x416
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(Path(__file__).resolve().parents[1] / 'config' / 'fastdds_shm.xml'))

import numpy as np  # noqa: E402

OUTPUTS = ('depth', 'info', 'motion', 'odom')
TOPIC = {'depth': 'depth', 'info': 'depth/camera_info', 'motion': 'motion', 'odom': 'odom'}
RESULTS = Path(__file__).parent / 'results'


def _frame(h: int, w: int, i: int) -> np.ndarray:
    v, u = np.mgrid[0:h, 0:w]
    return np.stack([((u + 3 * i) // 8 + v // 8) % 2 * 200, (u + v + i) % 255, (v * 3) % 255], 2).astype(np.uint8)


def _stats(node: list[float], bare: list[float], all_out: list[float], own: list[float]) -> dict[str, float]:
    n, b, a, o = (np.asarray(x) for x in (node, bare, all_out, own))
    return {'node_p10_ms': float(np.percentile(n, 10)), 'node_median_ms': float(np.median(n)),
            'bare_p10_ms': float(np.percentile(b, 10)), 'bare_median_ms': float(np.median(b)),
            'ratio_median': float(np.median(n) / np.median(b)),
            'ratio_p10': float(np.percentile(n, 10) / np.percentile(b, 10)),
            'overhead_median_ms': float(np.median(n - b)),
            'all_outputs_median_ms': float(np.median(a)), 'ratio_all_outputs_median': float(np.median(a) / np.median(b)),
            'own_predict_median_ms': float(np.median(o)), 'ratio_vs_own_predict': float(np.median(n / o)),
            'overhead_vs_own_predict_median_ms': float(np.median(n - o))}


def _p10_median(values: list[float]) -> dict[str, float]:
    return {'p10_ms': float(np.percentile(values, 10)), 'median_ms': float(np.median(values))}


class BenchNode:
    """One perception node under test on its own input topics, with the collector's subscriptions to its outputs
    and its own executor thread. ``own_ms[stamp]`` is its Predictor's ``predict`` time per frame."""

    def __init__(self, io, name: str, predictor, subscribed: list[str], executor: str, overrides=(),
                 inputs: str | None = None) -> None:
        from nav_msgs.msg import Odometry
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CameraInfo, Image

        from selfdepth_ros.nodes import conversions as cv
        from selfdepth_ros.nodes.perception_node import PerceptionNode, make_executor

        self.own_ms: dict[int, float] = {}
        inner_predict, own = predictor.predict, self.own_ms

        def predict(rgb, K=None, stamp_ns=None):
            pred = inner_predict(rgb, K, stamp_ns)
            own[stamp_ns] = pred.latency_ms
            return pred
        predictor.predict = predict
        inputs = inputs or f'/{name}/in'
        self.node = PerceptionNode(name, predictor_factory=lambda p: predictor, parameter_overrides=list(overrides),
                                   cli_args=['--ros-args', '-r', f'image:={inputs}/image_raw',
                                             '-r', f'camera_info:={inputs}/camera_info'])
        qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
        self.img_pub = io.create_publisher(Image, f'{inputs}/image_raw', qos)
        self.info_pub = io.create_publisher(CameraInfo, f'{inputs}/camera_info', qos)
        self.subscribed, self.arrived, self.done = subscribed, {}, threading.Event()
        types = {'depth': Image, 'info': CameraInfo, 'motion': Image, 'odom': Odometry}

        def on_output(key):
            def cb(msg):
                stamp = cv.time_to_ns(msg.header.stamp)
                self.arrived.setdefault(stamp, {}).setdefault(key, time.perf_counter_ns())
                self.done.set()  # wake the waiting round; it checks what is still missing
            return cb
        for key in subscribed:
            io.create_subscription(types[key], f'/{name}/{TOPIC[key]}', on_output(key), qos)
        self.executor = make_executor(executor)
        self.executor.add_node(self.node)
        threading.Thread(target=self.executor.spin, daemon=True).start()

    def matched(self) -> bool:
        return self.img_pub.get_subscription_count() > 0 and self.info_pub.get_subscription_count() > 0 and \
            self.node.depth_pub.get_subscription_count() > 0

    def run(self, img, info, stamp: int, first_frame: bool) -> tuple[float, float]:
        """Publish one frame; ms until its depth and until all subscribed outputs (the node finished it)."""
        before = self.node.stats.total
        self.done.clear()
        t0 = time.perf_counter_ns()
        self.info_pub.publish(info)
        self.img_pub.publish(img)
        need = set(self.subscribed) - ({'motion'} if first_frame else set())  # no motion without a frame pair
        while not need <= set(self.arrived.get(stamp, {})):
            if not self.done.wait(30.0):
                raise RuntimeError(f'{self.node.get_name()}: no {need - set(self.arrived.get(stamp, {}))} for frame '
                                   f'{stamp} within 30 s')
            self.done.clear()
        while self.node.stats.total == before:  # untimed: let the node finish the frame before the next run
            time.sleep(0.001)
        got = self.arrived[stamp]
        return (got['depth'] - t0) * 1e-6, (max(got.values()) - t0) * 1e-6

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def _wait_matched(nodes: list[BenchNode]) -> None:
    deadline = time.monotonic() + 30
    while not all(n.matched() for n in nodes):
        if time.monotonic() > deadline:
            raise RuntimeError('DDS discovery between the bench and the node(s) did not complete in 30 s')
        time.sleep(0.05)
    time.sleep(0.5)  # the other subscriptions match in the same discovery round


def _messages(h: int, w: int, r: int, stamp: int):
    from selfdepth_ros.nodes import conversions as cv
    K = np.array([[0.6 * w, 0, (w - 1) / 2], [0, 0.6 * w, (h - 1) / 2], [0, 0, 1]])
    rgb = _frame(h, w, r)
    return rgb, K, cv.image_msg(rgb, 'rgb8', stamp, 'cam'), cv.camera_info_msg(K, w, h, stamp, 'cam')


def node_vs_bare(io, args, cfg, sizes, subscribed, overrides) -> dict:
    """The node vs a bare Predictor on the same frames (see module doc)."""
    from selfdepth_ros.inference import Predictor
    bare = Predictor(device='cpu', model_config=cfg)
    bench = BenchNode(io, 'selfdepth', Predictor(device='cpu', model_config=cfg), subscribed, args.executor,
                      overrides, inputs='/camera')
    _wait_matched([bench])
    res, stamp, warmup = {}, 1_000_000_000, 2
    for h, w in sizes:
        r_node, r_bare, r_all, r_own = [], [], [], []
        stamp += 10_000_000_000  # a time gap: both predictors start a new pair for this size
        for r in range(args.rounds + warmup):
            stamp += 100_000_000
            rgb, K, img, info = _messages(h, w, r, stamp)

            def run_bare():
                t1 = time.perf_counter_ns()
                bare.predict(rgb, K, stamp)
                return (time.perf_counter_ns() - t1) * 1e-6
            if r % 2:
                b = run_bare()
                n, a = bench.run(img, info, stamp, r == 0)
            else:
                n, a = bench.run(img, info, stamp, r == 0)
                b = run_bare()
            if r >= warmup:
                r_node.append(n), r_bare.append(b), r_all.append(a), r_own.append(bench.own_ms[stamp])
        res[f'{h}x{w}'] = _stats(r_node, r_bare, r_all, r_own)
    bench.close()
    for key, s in res.items():
        print(f"{key}: node p10/median {s['node_p10_ms']:.1f}/{s['node_median_ms']:.1f} ms, bare "
              f"{s['bare_p10_ms']:.1f}/{s['bare_median_ms']:.1f} ms, ratio median {s['ratio_median']:.2f} "
              f"p10 {s['ratio_p10']:.2f} (paired +{s['overhead_median_ms']:.1f} ms); all outputs "
              f"{s['all_outputs_median_ms']:.1f} ms; vs own predict {s['ratio_vs_own_predict']:.2f} "
              f"(+{s['overhead_vs_own_predict_median_ms']:.1f} ms)")
    return {'sizes': res}


def node_backends(io, args, cfg, sizes, subscribed, overrides) -> dict:
    """One node per backend, interleaved rounds, ratios to the torch node (see module doc)."""
    from selfdepth_ros.inference import Predictor
    backends = list(dict.fromkeys(['torch', *args.backends]))  # torch first: the baseline
    nodes, chosen = {}, {}
    for b in backends:
        t0 = time.perf_counter()
        predictor = Predictor(device='cpu', model_config=cfg, backend=b)  # seed 0: the same weights for all
        info = predictor.describe()
        chosen[b] = {'backend': info['backend'], 'detail': info['backend_detail'],
                     'load_s': time.perf_counter() - t0}
        print(f"  {b}: {info['backend_detail']} (load {chosen[b]['load_s']:.1f} s)", flush=True)
        nodes[b] = BenchNode(io, f'selfdepth_{b}', predictor, subscribed, args.executor, overrides)
    _wait_matched(list(nodes.values()))
    res, ratios, stamp, warmup = {}, [], 1_000_000_000, 2
    for h, w in sizes:
        node_ms = {b: [] for b in backends}
        all_ms = {b: [] for b in backends}
        own_ms = {b: [] for b in backends}
        stamp += 10_000_000_000
        for r in range(args.rounds + warmup):
            stamp += 100_000_000
            _, _, img, info = _messages(h, w, r, stamp)
            shift = r % len(backends)
            for b in backends[shift:] + backends[:shift]:
                n, a = nodes[b].run(img, info, stamp, r == 0)
                if r >= warmup:
                    node_ms[b].append(n), all_ms[b].append(a), own_ms[b].append(nodes[b].own_ms[stamp])
        size = f'{h}x{w}'
        entry = {b: {'node': _p10_median(node_ms[b]), 'all_outputs': _p10_median(all_ms[b]),
                     'own_predict': _p10_median(own_ms[b]), 'n': len(node_ms[b])} for b in backends}
        base = entry['torch']
        for b in backends[1:]:
            for what in ('node', 'own_predict'):
                ratio = {'median': entry[b][what]['median_ms'] / base[what]['median_ms'],
                         'p10': entry[b][what]['p10_ms'] / base[what]['p10_ms']}
                entry[b][f'{what}_ratio_to_torch'] = ratio
                ratios.append({'label': f'{size} {what} {b} ({chosen[b]["backend"]})',
                               'baseline': f"torch {base[what]['median_ms']:.0f} ms", **ratio})
        res[size] = entry
        for b in backends:
            e = entry[b]
            r = e.get('node_ratio_to_torch', {'median': 1.0, 'p10': 1.0})
            p = e.get('own_predict_ratio_to_torch', {'median': 1.0, 'p10': 1.0})
            print(f"{size} {b:12s} node p10/median {e['node']['p10_ms']:7.1f}/{e['node']['median_ms']:7.1f} ms "
                  f"ratio {r['median']:.2f} (p10 {r['p10']:.2f}); predict {e['own_predict']['median_ms']:7.1f} ms "
                  f"ratio {p['median']:.2f} (p10 {p['p10']:.2f})")
    for n in nodes.values():
        n.close()
    return {'benchmark': 'node_backends', 'backends': chosen, 'sizes': res, 'ratios': ratios}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rounds', type=int, default=20)
    ap.add_argument('--preset', choices=('small', 'default'), default='small')
    ap.add_argument('--sizes', default='64x192,480x640', help='HxW input sizes, comma separated')
    ap.add_argument('--executor', default='single', help="the node's executor (perception_node.make_executor)")
    ap.add_argument('--subscribe', default='depth,motion,odom', help=f'outputs to receive, of {sorted(OUTPUTS)}')
    ap.add_argument('--param', action='append', default=[], metavar='NAME:=VALUE', help='node parameter override')
    ap.add_argument('--backends', nargs='+', default=None, metavar='BACKEND',
                    help='compare the node on these backends with the node on torch (e.g. torchscript onnxruntime '
                         'auto) instead of the node with the bare Predictor')
    ap.add_argument('--out', type=Path, default=None,
                    help='JSON (default bench/results/node_latency.json, with --backends node_backends.json)')
    args = ap.parse_args(argv)
    subscribed = args.subscribe.split(',')
    if 'depth' not in subscribed or not set(subscribed) <= set(OUTPUTS):
        ap.error(f'--subscribe must include depth and name only {sorted(OUTPUTS)}, got {args.subscribe!r}')
    from selfdepth_ros.backend_names import CHOICES
    if args.backends and not set(args.backends) <= set(CHOICES):
        ap.error(f'--backends: unknown {sorted(set(args.backends) - set(CHOICES))}; known: {", ".join(CHOICES)}')
    import rclpy
    import torch
    import yaml
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter

    from selfdepth_ros.models import ModelConfig

    cfg = ModelConfig.small() if args.preset == 'small' else ModelConfig()
    sizes = [tuple(int(x) for x in s.split('x')) for s in args.sizes.split(',')]
    rclpy.init()
    given = [(k, yaml.safe_load(v)) for k, _, v in (p.partition(':=') for p in args.param)]
    quiet = [] if any(k == 'no_pair_warn' for k, _ in given) else [('no_pair_warn', 3600.0)]  # idle between turns
    overrides = [Parameter(k, value=v) for k, v in quiet + given]
    io = rclpy.create_node('latency_bench')
    io_executor = SingleThreadedExecutor()
    io_executor.add_node(io)
    threading.Thread(target=io_executor.spin, daemon=True).start()
    load = os.getloadavg()[0]
    compare = node_backends if args.backends else node_vs_bare
    result = compare(io, args, cfg, sizes, subscribed, overrides)
    io_executor.shutdown()
    io.destroy_node()
    rclpy.shutdown()
    out = {**result, 'preset': args.preset, 'rounds': args.rounds, 'device': 'cpu',
           'torch_threads': torch.get_num_threads(), 'executor': args.executor, 'subscribed': subscribed,
           'params': args.param, 'load_avg_1min': load, 'load_avg_1min_end': os.getloadavg()[0]}
    path = args.out or RESULTS / ('node_backends.json' if args.backends else 'node_latency.json')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
