"""End-to-end node latency (image published → depth received) vs the bare Predictor on the same frames.

Both variants run the same Predictor configuration on the same frames, interleaved round by round (node, bare,
per size), so drift of the shared machine hits both alike. Reports p10 and median per variant and the
median ratio node/bare at two input sizes. The node runs in this process (its own executor thread) and
talks to the player/collector over real DDS (loopback, SHM profile), so the ratio includes serialisation,
transport, decoding, pairing, scaling and publishing.

    .venv/bin/python -m bench.node_latency --rounds 20 --preset small
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


def _frame(h: int, w: int, i: int) -> np.ndarray:
    v, u = np.mgrid[0:h, 0:w]
    return np.stack([((u + 3 * i) // 8 + v // 8) % 2 * 200, (u + v + i) % 255, (v * 3) % 255], 2).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rounds', type=int, default=20)
    ap.add_argument('--preset', choices=('small', 'default'), default='small')
    ap.add_argument('--sizes', default='64x192,480x640', help='HxW input sizes, comma separated')
    ap.add_argument('--out', type=Path, default=Path(__file__).parent / 'results' / 'node_latency.json')
    args = ap.parse_args(argv)
    import rclpy
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.parameter import Parameter
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, Image

    from selfdepth_ros.inference import Predictor
    from selfdepth_ros.models import ModelConfig
    from selfdepth_ros.nodes import conversions as cv
    from selfdepth_ros.nodes.perception_node import PerceptionNode

    cfg = ModelConfig.small() if args.preset == 'small' else ModelConfig()
    sizes = [tuple(int(x) for x in s.split('x')) for s in args.sizes.split(',')]
    bare = Predictor(device='cpu', model_config=cfg)
    rclpy.init()
    node = PerceptionNode(predictor_factory=lambda p: Predictor(device='cpu', model_config=cfg),
                          parameter_overrides=[Parameter('publish_motion', value=False)],
                          cli_args=['--ros-args', '-r', 'image:=/camera/image_raw', '-r', 'camera_info:=/camera/camera_info'])
    io = rclpy.create_node('latency_bench')
    qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
    img_pub = io.create_publisher(Image, '/camera/image_raw', qos)
    info_pub = io.create_publisher(CameraInfo, '/camera/camera_info', qos)
    arrived: dict[int, int] = {}
    io.create_subscription(Image, '/selfdepth/depth', lambda m: arrived.setdefault(cv.time_to_ns(m.header.stamp),
                                                                                    time.perf_counter_ns()), qos)
    ex = MultiThreadedExecutor(num_threads=3)
    ex.add_node(node)
    ex.add_node(io)
    threading.Thread(target=ex.spin, daemon=True).start()
    deadline = time.monotonic() + 30
    while img_pub.get_subscription_count() == 0 or node.depth_pub.get_subscription_count() == 0:
        if time.monotonic() > deadline:
            raise RuntimeError('DDS discovery between the bench and the node did not complete in 30 s')
        time.sleep(0.05)
    res = {f'{h}x{w}': {'node_ms': [], 'bare_ms': []} for h, w in sizes}
    stamp = 1_000_000_000
    for r in range(args.rounds + 1):  # round 0 warms up both
        for h, w in sizes:
            rgb = _frame(h, w, r)
            K = np.array([[0.6 * w, 0, (w - 1) / 2], [0, 0.6 * w, (h - 1) / 2], [0, 0, 1]])
            stamp += 100_000_000
            t0 = time.perf_counter_ns()
            info_pub.publish(cv.camera_info_msg(K, w, h, stamp, 'cam'))
            img_pub.publish(cv.image_msg(rgb, 'rgb8', stamp, 'cam'))
            while stamp not in arrived:
                time.sleep(0.0005)
            node_ms = (arrived[stamp] - t0) * 1e-6
            t1 = time.perf_counter_ns()
            bare.predict(rgb, K, stamp)
            bare_ms = (time.perf_counter_ns() - t1) * 1e-6
            if r:
                res[f'{h}x{w}']['node_ms'].append(node_ms)
                res[f'{h}x{w}']['bare_ms'].append(bare_ms)
    ex.shutdown()
    node.destroy_node()
    io.destroy_node()
    rclpy.shutdown()
    out = {'preset': args.preset, 'rounds': args.rounds, 'device': 'cpu', 'sizes': {}}
    for key, v in res.items():
        n, b = np.array(v['node_ms']), np.array(v['bare_ms'])
        out['sizes'][key] = {'node_p10_ms': float(np.percentile(n, 10)), 'node_median_ms': float(np.median(n)),
                             'bare_p10_ms': float(np.percentile(b, 10)), 'bare_median_ms': float(np.median(b)),
                             'ratio_median': float(np.median(n) / np.median(b)),
                             'ratio_p10': float(np.percentile(n, 10) / np.percentile(b, 10)),
                             'overhead_median_ms': float(np.median(n) - np.median(b))}
        s = out['sizes'][key]
        print(f"{key}: node p10/median {s['node_p10_ms']:.1f}/{s['node_median_ms']:.1f} ms, bare "
              f"{s['bare_p10_ms']:.1f}/{s['bare_median_ms']:.1f} ms, ratio {s['ratio_median']:.2f} "
              f"(+{s['overhead_median_ms']:.1f} ms)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
