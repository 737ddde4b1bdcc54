"""Network latency of the depth and motion nets: eager PyTorch vs the optimised inference paths, side by side.

For each net (depth, motion) and input size (default 128×416 and 192×640, batch 1) every variant is built
once, then all (net, size, variant) calls are timed round by round: each round visits every cell and runs each
of its variants once, in an order rotated every round, so the VM's drift (up to 1.5× between runs) hits all
variants alike. Warm-up rounds (which include compilation) are excluded. Reports per variant p10 and median
milliseconds, the time ratio to eager (< 1 = faster), and the largest output difference from eager.

CPU variants: ``eager``, ``channels_last``, ``compile_cl`` (torch.compile of the channels-last model),
``torchscript`` (trace + freeze), ``onnxruntime`` (CPU provider, non-spinning threads); ``compile`` (plain)
on request. CUDA variants (when a GPU is present): ``eager``, ``channels_last``, ``fp16`` and ``bf16``
(autocast), ``fp16_cl``; bf16 is never run on the CPU (about 100× slower there).

    .venv/bin/python -m bench.net_latency              # full run, a few minutes on 2 cores
    .venv/bin/python -m bench.net_latency --quick      # one size, 3 rounds, no compile: well under a minute
Writes bench/results/net_latency.json.
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.common import RESULTS_DIR, interleaved_rounds, machine_info, ratio, summarize, write_json

CPU_VARIANTS = ('eager', 'channels_last', 'compile_cl', 'torchscript', 'onnxruntime')
CUDA_VARIANTS = ('eager', 'channels_last', 'fp16', 'bf16', 'fp16_cl')
ALL_VARIANTS = ('eager', 'channels_last', 'compile', 'compile_cl', 'torchscript', 'onnxruntime',
                'fp16', 'bf16', 'fp16_cl')
NETS = ('depth', 'motion')

# Published latencies to set ours against (issue #6); 'size' is H×W of the network input.
PUBLISHED_ANCHORS = [
    {'source': '001 Li et al. (CoRL 2020)', 'net': 'depth', 'device': 'NVIDIA V100', 'batch': 1,
     'size': '192x480', 'ms': 5.3},
    {'source': 'monodepth2-size depth net', 'net': 'depth', 'device': 'NVIDIA TITAN V', 'batch': 1,
     'size': '192x640', 'ms': 6.0},
    {'source': 'Isaac ROS ESS', 'net': 'stereo depth', 'device': 'Jetson AGX Orin', 'fps': 103.0},
    {'source': 'RT-MonoDepth', 'net': 'depth', 'device': 'Jetson AGX Orin', 'fps': 253.0},
]


def parse_size(text: str) -> tuple[int, int]:
    """``'128x416'`` → ``(128, 416)`` (H, W in pixels, multiples of 32 and >= 64)."""
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'size must be HxW like 128x416, got {text!r}') from None
    if h % 32 or w % 32 or h < 64 or w < 64:
        raise argparse.ArgumentTypeError(f'size {text!r}: H and W must be multiples of 32 and at least 64')
    return h, w


def make_graph(net: str, height: int, width: int, preset: str, device: torch.device) -> torch.nn.Module:
    """The exported function of ``net`` (:mod:`selfdepth_ros.graphs`' DepthGraph/MotionGraph), random weights, eval."""
    from selfdepth_ros.checkpoint import build_models
    from selfdepth_ros.graphs import DepthGraph, MotionGraph
    from selfdepth_ros.models import ModelConfig

    torch.manual_seed(0)
    base = ModelConfig.small() if preset == 'small' else ModelConfig()
    depth_net, motion_net = build_models(base.replace(height=height, width=width), device=device)
    return (DepthGraph(depth_net) if net == 'depth' else MotionGraph(motion_net)).eval()


def make_inputs(net: str, height: int, width: int, batch: int, device: torch.device) -> list[torch.Tensor]:
    """Inputs of batch ``batch``: rgb ``B×3×H×W`` in [0, 1]; motion also gets depths ``B×1×H×W``, 1..50 m."""
    gen = torch.Generator().manual_seed(1)
    rgb1 = torch.rand(batch, 3, height, width, generator=gen)
    if net == 'depth':
        return [rgb1.to(device)]
    rgb2 = (rgb1 + 0.05 * torch.randn(rgb1.shape, generator=gen)).clamp(0, 1)
    depth1, depth2 = (1 + 49 * torch.rand(batch, 1, height, width, generator=gen) for _ in range(2))
    return [t.to(device) for t in (rgb1, depth1, rgb2, depth2)]


def _channels_last(graph: torch.nn.Module,
                   inputs: list[torch.Tensor]) -> tuple[torch.nn.Module, list[torch.Tensor]]:
    graph = copy.deepcopy(graph).to(memory_format=torch.channels_last)
    return graph, [x.contiguous(memory_format=torch.channels_last) for x in inputs]


def _onnx_runner(graph: torch.nn.Module, inputs: list[torch.Tensor], workdir: Path, name: str) -> Callable[[], Any]:
    import onnxruntime as ort

    from selfdepth_ros.backends import export_onnx  # the project's one ONNX export recipe (opset 17, dynamic batch)

    path = workdir / f'{name}.onnx'
    names = ['rgb'] if len(inputs) == 1 else ['rgb1', 'depth1', 'rgb2', 'depth2']
    outputs = ['depth'] if len(inputs) == 1 else [f'out{i}' for i in range(len(graph(*inputs)))]
    export_onnx(graph, dict(zip(names, inputs)), outputs, path)
    options = ort.SessionOptions()
    # ORT allow_spinning=0: spinning worker threads starve torch on 2 cores (eager 309 -> 566 ms measured).
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    options.intra_op_num_threads = torch.get_num_threads()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
    feed = {n: x.numpy() for n, x in zip(names, inputs)}
    return lambda: session.run(None, feed)


def build_runner(variant: str, graph: torch.nn.Module, inputs: list[torch.Tensor], workdir: Path,
                 name: str) -> Callable[[], Any]:
    """A zero-argument callable running one batch through ``graph`` the ``variant`` way (see module doc)."""
    cuda = inputs[0].is_cuda
    if variant in ('fp16', 'bf16', 'fp16_cl') and not cuda:
        raise ValueError(f'variant {variant!r} needs CUDA (bf16 autocast is ~100x slower on this CPU)')
    if variant in ('onnxruntime',) and cuda:
        raise ValueError('variant onnxruntime is CPU-only here (onnxruntime without the CUDA provider)')
    if variant in ('channels_last', 'compile_cl', 'fp16_cl'):
        graph, inputs = _channels_last(graph, inputs)
    if variant in ('compile', 'compile_cl'):
        fn = torch.compile(graph)
    elif variant == 'torchscript':
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter('ignore')  # tracer warnings about shape checks turned into constants
            fn = torch.jit.freeze(torch.jit.trace(graph, tuple(inputs), check_trace=False))
    elif variant == 'onnxruntime':
        return _onnx_runner(graph, inputs, workdir, name)
    elif variant in ALL_VARIANTS:
        fn = graph
    else:
        raise ValueError(f'unknown variant {variant!r}; known: {ALL_VARIANTS}')
    dtype = {'fp16': torch.float16, 'fp16_cl': torch.float16, 'bf16': torch.bfloat16}.get(variant)

    def run() -> Any:
        with torch.inference_mode(), torch.autocast('cuda', dtype=dtype, enabled=dtype is not None):
            return fn(*inputs)
    return run


def _as_arrays(out: Any) -> list[np.ndarray]:
    items = out if isinstance(out, (tuple, list)) else [out]
    return [x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x) for x in items]


def max_abs_diff(a: Any, b: Any) -> float:
    """Largest absolute difference over all outputs of two runs (tensors or numpy arrays, same structure)."""
    pairs = list(zip(_as_arrays(a), _as_arrays(b)))
    return max(float(np.max(np.abs(x - y))) for x, y in pairs)


def anchor_comparison(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Our depth-net medians (eager and fastest variant) against each published anchor with a size.

    When the anchor's size was not measured, ours is scaled from the nearest measured size by pixel count
    (``pixel_scaled: true``; a rough estimate, convolutions scale about linearly with pixels).
    """
    rows = []
    depth = results.get('depth', {})
    for anchor in PUBLISHED_ANCHORS:
        if 'size' not in anchor or not depth:
            continue
        ah, aw = parse_size(anchor['size'])
        key = min(depth, key=lambda k: abs(np.log(np.prod(parse_size(k)) / (ah * aw))))
        scale = ah * aw / np.prod(parse_size(key))
        variants = depth[key]['variants']
        best = min(variants, key=lambda v: variants[v]['median_ms'])
        eager_ms = variants['eager']['median_ms'] * scale if 'eager' in variants else None
        best_ms = variants[best]['median_ms'] * scale
        rows.append({**anchor, 'measured_size': key, 'pixel_scaled': key != anchor['size'],
                     'ours_eager_ms': eager_ms, 'ours_best_variant': best, 'ours_best_ms': best_ms,
                     'ours_best_over_anchor': best_ms / anchor['ms']})
    return rows


def run(sizes: list[tuple[int, int]], variants: list[str], rounds: int, warmup: int, batch: int = 1,
        preset: str = 'default', nets: tuple[str, ...] = NETS, device: str = 'cpu') -> dict[str, Any]:
    """Build every (net, size, variant) runner, time them interleaved, and return the result dict."""
    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else None
    cells: dict[str, Callable[[], Any]] = {}
    info: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    failed: dict[str, str] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for net in nets:
            for h, w in sizes:
                size = f'{h}x{w}'
                graph, inputs = make_graph(net, h, w, preset, dev), make_inputs(net, h, w, batch, dev)
                with torch.inference_mode():
                    reference = graph(*inputs)
                info[net, size] = {}
                for variant in variants:
                    name = f'{net}/{size}/{variant}'
                    t0 = time.perf_counter()
                    try:
                        fn = build_runner(variant, graph, inputs, Path(tmp), name.replace('/', '_'))
                        out = fn()  # the first call compiles (compile, TorchScript's profiling executor)
                        if sync is not None:
                            sync()
                    except Exception as exc:  # a backend missing on this machine must not sink the board
                        failed[name] = f'{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""}'
                        print(f'  {name}: FAILED ({failed[name]})', file=sys.stderr)
                        continue
                    info[net, size][variant] = {'setup_and_first_call_s': time.perf_counter() - t0,
                                                'max_abs_diff_vs_eager': max_abs_diff(out, reference)}
                    cells[name] = fn
                    print(f'  built {name} in {time.perf_counter() - t0:.1f} s', flush=True)
        build_s = time.perf_counter() - start

        def progress(r: int) -> None:
            label = f'round {r + 1}/{rounds}' if r >= 0 else f'warm-up {r + warmup + 1}/{warmup}'
            print(f'  {label} done, {time.perf_counter() - start:.0f} s', flush=True)
        times = interleaved_rounds(cells, rounds, warmup, sync=sync, on_round=progress)
    results: dict[str, Any] = {}
    ratios: list[dict[str, Any]] = []
    for (net, size), per_variant in info.items():
        stats = {v: {**summarize(times[f'{net}/{size}/{v}']), **extra} for v, extra in per_variant.items()}
        entry: dict[str, Any] = {'variants': stats}
        if 'eager' in stats:
            entry['ratio_to_eager'] = {v: ratio(s, stats['eager']) for v, s in stats.items() if v != 'eager'}
            entry['speedup_median'] = {v: stats['eager']['median_ms'] / s['median_ms'] for v, s in stats.items()}
            ratios += [{'label': f'{net} {size} {v}', 'baseline': f'eager {stats["eager"]["median_ms"]:.0f} ms',
                        **r} for v, r in entry['ratio_to_eager'].items()]
        results.setdefault(net, {})[size] = entry
    return {'results': results, 'ratios': ratios, 'failed_variants': failed, 'build_s': build_s,
            'total_s': time.perf_counter() - start}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--sizes', type=parse_size, nargs='+', default=None, metavar='HxW',
                    help='network input sizes (default 128x416 192x640; on CUDA also 192x480, the 001 anchor)')
    ap.add_argument('--variants', nargs='+', choices=ALL_VARIANTS, default=None,
                    help=f'default: {" ".join(CPU_VARIANTS)} on CPU, {" ".join(CUDA_VARIANTS)} on CUDA')
    ap.add_argument('--nets', nargs='+', choices=NETS, default=list(NETS))
    ap.add_argument('--rounds', type=int, default=None, help='timed rounds (default 12; 3 with --quick)')
    ap.add_argument('--warmup', type=int, default=2, help='untimed rounds after building (default 2)')
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--preset', choices=('default', 'small'), default='default',
                    help="architecture: ModelConfig() (001's ResNet18) or ModelConfig.small()")
    ap.add_argument('--device', choices=('auto', 'cpu', 'cuda'), default='auto')
    ap.add_argument('--quick', action='store_true',
                    help='a short run: 128x416 only, 3 rounds, 1 warm-up, no torch.compile variants')
    ap.add_argument('--out', type=Path, default=RESULTS_DIR / 'net_latency.json')
    args = ap.parse_args(argv)
    device = ('cuda' if torch.cuda.is_available() else 'cpu') if args.device == 'auto' else args.device
    if device == 'cuda' and not torch.cuda.is_available():
        ap.error('--device cuda: no CUDA device is available')
    sizes = args.sizes or ([(128, 416)] if args.quick else [(128, 416), (192, 640)])
    if device == 'cuda' and args.sizes is None and not args.quick:
        sizes.append((192, 480))
    variants = list(args.variants or (CUDA_VARIANTS if device == 'cuda' else CPU_VARIANTS))
    if args.quick and args.variants is None:
        variants = [v for v in variants if not v.startswith('compile')]
    if 'eager' not in variants:
        variants.insert(0, 'eager')  # every ratio is to eager
    rounds = args.rounds or (3 if args.quick else 12)
    warmup = 1 if args.quick and args.warmup == 2 else args.warmup
    machine = machine_info()
    print(f'net_latency on {device}: sizes {sizes}, variants {variants}, {rounds} rounds + {warmup} warm-up, '
          f'load average {machine["load_average_1_5_15"][0]:.1f}', flush=True)
    out = run(sizes, variants, rounds, warmup, args.batch, args.preset, tuple(args.nets), device)
    result = {
        'benchmark': 'net_latency',
        'what': (f'{"/".join(args.nets)} net latency, batch {args.batch}, {device}, preset {args.preset}, random '
                 f'weights; {rounds} interleaved rounds after {warmup} warm-up; ratio = variant/eager time'),
        'device': device, 'batch': args.batch, 'preset': args.preset, 'quick': args.quick, 'rounds': rounds,
        'warmup': warmup, 'sizes': [f'{h}x{w}' for h, w in sizes], 'variants': variants,
        'machine': machine, 'load_average_end_1_5_15': list(os.getloadavg()),
        **out, 'published_anchors': PUBLISHED_ANCHORS,
    }
    result['anchor_comparison'] = anchor_comparison(result['results'])
    write_json(args.out, result)
    for net, per_size in result['results'].items():
        for size, entry in per_size.items():
            for v, s in entry['variants'].items():
                r = entry.get('ratio_to_eager', {}).get(v, {'median': 1.0, 'p10': 1.0})
                print(f'{net:6s} {size:8s} {v:14s} p10 {s["p10_ms"]:8.1f} ms  median {s["median_ms"]:8.1f} ms  '
                      f'ratio {r["median"]:.2f} (p10 {r["p10"]:.2f})  max|diff| {s["max_abs_diff_vs_eager"]:.1e}')
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
