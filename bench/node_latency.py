"""End-to-end node latency (image published → depth received) vs the bare Predictor on the same frames.

The node runs in this process with the executor ``spin`` gives it (its own thread, as ``selfdepth run``), a
player/collector node on a second executor thread talks to it over real DDS (loopback, SHM profile), so the
latency includes serialisation, transport, executor wake-ups, decoding, pairing, scaling and publishing.
The bare variant is a second ``Predictor`` of the same configuration and seed on the same frames.

Method (bench/ conventions): per input size, a block of rounds; each round times the node and the bare
Predictor on the same frame, alternating which goes first; messages are built before the clock starts; the
collector signals arrival with an Event (no polling thread stealing the GIL); the bare run starts only once
the node has finished the frame (odometry/TF included). Frames of a block are consecutive (stamps 0.1 s
apart), so the motion net runs and ``~/motion`` is published. Reported per size: p10 and median of both,
their ratios, the median paired overhead, and the node's time to *all* subscribed outputs.
The node's own ``predict`` time is recorded too: ``ratio_vs_own_predict`` (median of per-frame
node/own-predict) is the least noisy figure on a loaded machine, since both halves come from the same frame.

    .venv/bin/python -m bench.node_latency --rounds 20 --preset small [--executor multi] [--param k:=v]
Writes bench/results/node_latency.json.
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

OUTPUTS = {'depth': '/selfdepth/depth', 'info': '/selfdepth/depth/camera_info', 'motion': '/selfdepth/motion',
           'odom': '/selfdepth/odom'}


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rounds', type=int, default=20)
    ap.add_argument('--preset', choices=('small', 'default'), default='small')
    ap.add_argument('--sizes', default='64x192,480x640', help='HxW input sizes, comma separated')
    ap.add_argument('--executor', default='single', help="the node's executor (perception_node.make_executor)")
    ap.add_argument('--subscribe', default='depth,motion,odom', help=f'outputs to receive, of {sorted(OUTPUTS)}')
    ap.add_argument('--param', action='append', default=[], metavar='NAME:=VALUE', help='node parameter override')
    ap.add_argument('--out', type=Path, default=Path(__file__).parent / 'results' / 'node_latency.json')
    args = ap.parse_args(argv)
    subscribed = args.subscribe.split(',')
    if 'depth' not in subscribed or not set(subscribed) <= set(OUTPUTS):
        ap.error(f'--subscribe must include depth and name only {sorted(OUTPUTS)}, got {args.subscribe!r}')
    import rclpy
    import torch
    import yaml
    from nav_msgs.msg import Odometry
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, Image

    from selfdepth_ros.inference import Predictor
    from selfdepth_ros.models import ModelConfig
    from selfdepth_ros.nodes import conversions as cv
    from selfdepth_ros.nodes.perception_node import PerceptionNode, make_executor

    cfg = ModelConfig.small() if args.preset == 'small' else ModelConfig()
    sizes = [tuple(int(x) for x in s.split('x')) for s in args.sizes.split(',')]
    bare = Predictor(device='cpu', model_config=cfg)
    own_ms: dict[int, float] = {}

    class Recording(Predictor):
        """The node's Predictor, recording its own ``predict`` time per stamp."""

        def predict(self, rgb, K=None, stamp_ns=None):
            pred = super().predict(rgb, K, stamp_ns)
            own_ms[stamp_ns] = pred.latency_ms
            return pred

    rclpy.init()
    overrides = [Parameter(k, value=yaml.safe_load(v)) for k, _, v in (p.partition(':=') for p in args.param)]
    node = PerceptionNode(predictor_factory=lambda p: Recording(device='cpu', model_config=cfg),
                          parameter_overrides=overrides,
                          cli_args=['--ros-args', '-r', 'image:=/camera/image_raw', '-r', 'camera_info:=/camera/camera_info'])
    io = rclpy.create_node('latency_bench')
    qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
    img_pub = io.create_publisher(Image, '/camera/image_raw', qos)
    info_pub = io.create_publisher(CameraInfo, '/camera/camera_info', qos)
    arrived: dict[int, dict[str, int]] = {}
    done = threading.Event()

    def on_output(key):
        def cb(msg):
            stamp = cv.time_to_ns(msg.header.stamp)
            arrived.setdefault(stamp, {}).setdefault(key, time.perf_counter_ns())
            done.set()  # wake the timer; it checks what is still missing
        return cb
    types = {'depth': Image, 'info': CameraInfo, 'motion': Image, 'odom': Odometry}
    for key in subscribed:
        io.create_subscription(types[key], OUTPUTS[key], on_output(key), qos)
    executors = [make_executor(args.executor), SingleThreadedExecutor()]
    executors[0].add_node(node)
    executors[1].add_node(io)
    for ex in executors:
        threading.Thread(target=ex.spin, daemon=True).start()
    deadline = time.monotonic() + 30
    while img_pub.get_subscription_count() == 0 or info_pub.get_subscription_count() == 0 or \
            node.depth_pub.get_subscription_count() == 0:
        if time.monotonic() > deadline:
            raise RuntimeError('DDS discovery between the bench and the node did not complete in 30 s')
        time.sleep(0.05)
    time.sleep(0.5)  # the other subscriptions match in the same discovery round

    def run_node(img, info, stamp, first_frame):
        before = node.stats.total
        done.clear()
        t0 = time.perf_counter_ns()
        info_pub.publish(info)
        img_pub.publish(img)
        need = set(subscribed) - ({'motion'} if first_frame else set())  # no motion without a frame pair
        while not need <= set(arrived.get(stamp, {})):
            if not done.wait(10.0):
                raise RuntimeError(f'no {need - set(arrived.get(stamp, {}))} for frame {stamp} within 10 s')
            done.clear()
        while node.stats.total == before:  # untimed: let the node finish the frame before the bare run
            time.sleep(0.001)
        got = arrived[stamp]
        return (got['depth'] - t0) * 1e-6, (max(got.values()) - t0) * 1e-6

    def run_bare(rgb, K, stamp):
        t1 = time.perf_counter_ns()
        bare.predict(rgb, K, stamp)
        return (time.perf_counter_ns() - t1) * 1e-6

    res, stamp, warmup = {}, 1_000_000_000, 2
    for h, w in sizes:
        r_node, r_bare, r_all, r_own = [], [], [], []
        K = np.array([[0.6 * w, 0, (w - 1) / 2], [0, 0.6 * w, (h - 1) / 2], [0, 0, 1]])
        stamp += 10_000_000_000  # a time gap: both predictors start a new pair for this size
        for r in range(args.rounds + warmup):
            rgb = _frame(h, w, r)
            stamp += 100_000_000
            img, info = cv.image_msg(rgb, 'rgb8', stamp, 'cam'), cv.camera_info_msg(K, w, h, stamp, 'cam')
            if r % 2:
                b = run_bare(rgb, K, stamp)
                n, a = run_node(img, info, stamp, r == 0)
            else:
                n, a = run_node(img, info, stamp, r == 0)
                b = run_bare(rgb, K, stamp)
            if r >= warmup:
                r_node.append(n), r_bare.append(b), r_all.append(a), r_own.append(own_ms[stamp])
        res[f'{h}x{w}'] = _stats(r_node, r_bare, r_all, r_own)
    for ex in executors:
        ex.shutdown()
    node.destroy_node()
    io.destroy_node()
    rclpy.shutdown()
    out = {'preset': args.preset, 'rounds': args.rounds, 'device': 'cpu', 'torch_threads': torch.get_num_threads(),
           'executor': args.executor, 'subscribed': subscribed, 'params': args.param,
           'load_avg_1min': os.getloadavg()[0], 'sizes': res}
    for key, s in res.items():
        print(f"{key}: node p10/median {s['node_p10_ms']:.1f}/{s['node_median_ms']:.1f} ms, bare "
              f"{s['bare_p10_ms']:.1f}/{s['bare_median_ms']:.1f} ms, ratio median {s['ratio_median']:.2f} "
              f"p10 {s['ratio_p10']:.2f} (paired +{s['overhead_median_ms']:.1f} ms); all outputs "
              f"{s['all_outputs_median_ms']:.1f} ms; vs own predict {s['ratio_vs_own_predict']:.2f} "
              f"(+{s['overhead_vs_own_predict_median_ms']:.1f} ms)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
