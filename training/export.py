"""``selfdepth export``: a checkpoint to TorchScript or ONNX, with an output-parity check against eager torch.

    selfdepth export --checkpoint CKPT --format torchscript|onnx [--out PATH] [--what depth|motion|both]

Graphs have the checkpoint's fixed input size (``model_config`` height × width) and a dynamic batch axis.
Depth graph: ``rgb`` B×3×H×W in [0, 1] → ``depth`` B×1×H×W metres. Motion graph: ``rgb1, depth1, rgb2,
depth2`` → ``rotation`` B×3 rad, ``translation`` B×3, ``residual`` B×3×H×W (+ ``intrinsics`` B×3×3 when
learned), the pair (1 → 2) convention of docs/CONVENTIONS.md. Each file gets a JSON sidecar (config, camera,
I/O names, parity). Parity is measured on fresh inputs (a batch size other than the traced one), by loading
the written file back; the command exits 1 when any output differs by more than ``atol + rtol·max|eager|``.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from selfdepth_ros.checkpoint import CheckpointError, build_models, load_checkpoint
from selfdepth_ros.models import DepthNet, MotionNet

SUFFIX = {'torchscript': '.pt', 'onnx': '.onnx'}


class DepthGraph(nn.Module):
    """The exported depth function: full-resolution depth only."""

    def __init__(self, net: DepthNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.net(rgb)[0]


class MotionGraph(nn.Module):
    """The exported motion function: a tuple of tensors (intrinsics only when the config learns them)."""

    def __init__(self, net: MotionNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, rgb1: torch.Tensor, depth1: torch.Tensor, rgb2: torch.Tensor,
                depth2: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.net(rgb1, depth1, rgb2, depth2)
        return tuple(t for t in out if t is not None)


def _inputs(what: str, depth_net: DepthNet, batch: int, seed: int) -> dict[str, torch.Tensor]:
    """Example inputs: random images, and the depth net's own depth for the motion graph."""
    cfg = depth_net.config
    gen = torch.Generator().manual_seed(seed)
    rgb1 = torch.rand(batch, 3, cfg.height, cfg.width, generator=gen)
    if what == 'depth':
        return {'rgb': rgb1}
    rgb2 = (rgb1 + 0.05 * torch.randn(rgb1.shape, generator=gen)).clamp(0, 1)
    with torch.inference_mode():
        return {'rgb1': rgb1, 'depth1': depth_net(rgb1)[0].clone(), 'rgb2': rgb2, 'depth2': depth_net(rgb2)[0].clone()}


def _output_names(what: str, motion_net: MotionNet) -> list[str]:
    if what == 'depth':
        return ['depth']
    return ['rotation', 'translation', 'residual'] + (['intrinsics'] if motion_net.config.learn_intrinsics else [])


def _write(graph: nn.Module, fmt: str, path: Path, example: dict[str, torch.Tensor], outputs: list[str]) -> None:
    args = tuple(example.values())
    if fmt == 'torchscript':
        with warnings.catch_warnings():
            # Tracer warnings (shape checks become constants) and TorchScript's upstream deprecation notice.
            warnings.simplefilter('ignore')
            traced = torch.jit.trace(graph, args, check_trace=False)
            torch.jit.save(traced, str(path))
    else:
        dynamic = {name: {0: 'batch'} for name in [*example, *outputs]}
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(graph, args, str(path), dynamo=False, input_names=list(example), output_names=outputs,
                              dynamic_axes=dynamic, opset_version=17)


def _run_exported(fmt: str, path: Path, inputs: dict[str, torch.Tensor]) -> list[np.ndarray]:
    if fmt == 'torchscript':
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)  # TorchScript is deprecated upstream, still asked for
            module = torch.jit.load(str(path), map_location='cpu')
        with torch.inference_mode():
            out = module(*inputs.values())
        return [t.numpy() for t in (out if isinstance(out, (tuple, list)) else (out,))]
    import onnxruntime as ort
    options = ort.SessionOptions()
    # ORT allow_spinning=0: spinning worker threads starve torch on a 2-core machine.
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    session = ort.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
    return session.run(None, {k: v.numpy() for k, v in inputs.items()})


def export_graph(what: str, fmt: str, ckpt: dict, out: Path, atol: float = 1e-5, rtol: float = 1e-4) -> dict:
    """Export one graph (``what`` = 'depth' or 'motion') of a loaded checkpoint and check parity.

    Returns the parity report ``{'outputs': {name: {'max_abs_diff', 'max_abs_eager'}}, 'ok': bool}`` (also
    written into the ``<out>.json`` sidecar).
    """
    depth_net, motion_net = build_models(ckpt, device='cpu')
    graph = DepthGraph(depth_net) if what == 'depth' else MotionGraph(motion_net)
    graph.eval()
    names = _output_names(what, motion_net)
    _write(graph, fmt, out, _inputs(what, depth_net, batch=1, seed=0), names)
    check = _inputs(what, depth_net, batch=2, seed=1)  # fresh values and another batch size than the trace
    with torch.inference_mode():
        eager = graph(**check)
    eager = [t.numpy() for t in (eager if isinstance(eager, tuple) else (eager,))]
    exported = _run_exported(fmt, out, check)
    report: dict = {'outputs': {}, 'ok': len(exported) == len(eager)}
    for name, ref, got in zip(names, eager, exported):
        if ref.shape != got.shape:
            report['outputs'][name] = {'error': f'shape {got.shape} vs eager {ref.shape}'}
            report['ok'] = False
            continue
        diff, scale = float(np.max(np.abs(ref - got))), float(np.max(np.abs(ref)))
        report['outputs'][name] = {'max_abs_diff': diff, 'max_abs_eager': scale}
        report['ok'] &= diff <= atol + rtol * scale
    sidecar = {'format': fmt, 'what': what, 'inputs': {k: list(v.shape[1:]) for k, v in check.items()},
               'outputs': names, 'batch_axis': 0, 'model_config': ckpt['model_config'],
               'camera': ckpt.get('camera'), 'step': ckpt['step'], 'parity': report, 'atol': atol, 'rtol': rtol}
    Path(f'{out}.json').write_text(json.dumps(sidecar, indent=2))
    return report


def _targets(args: argparse.Namespace) -> list[tuple[str, Path]]:
    whats = ['depth', 'motion'] if args.what == 'both' else [args.what]
    suffix = SUFFIX[args.format]
    if args.out is None:
        base = args.checkpoint.with_suffix('')
        return [(w, base.with_name(f'{base.name}.{w}{suffix}')) for w in whats]
    if len(whats) == 1:
        return [(whats[0], args.out)]
    base = args.out.with_suffix('') if args.out.suffix == suffix else args.out
    return [(w, base.with_name(f'{base.name}.{w}{suffix}')) for w in whats]


def _refuse_overwrite(checkpoint: Path, targets: list[tuple[str, Path]], force: bool) -> str | None:
    """Why the export must not write ``targets`` (graphs and their ``.json`` sidecars), or None.

    The checkpoint itself is never overwritten; any other existing file only with ``--force``."""
    files = [p for _, out in targets for p in (out, Path(f'{out}.json'))]
    source = checkpoint.resolve()
    for path in files:
        if path.resolve() == source:
            return f'--out {path} is the checkpoint itself; exporting there would destroy it: choose another --out'
    existing = [str(p) for p in files if p.exists()]
    if existing and not force:
        return f'refusing to overwrite {", ".join(existing)}: pass --force to replace, or choose another --out'
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='selfdepth export', description=__doc__.split('\n\n')[0])
    parser.add_argument('--checkpoint', type=Path, required=True, help='selfdepth_ros checkpoint (.pt)')
    parser.add_argument('--format', choices=sorted(SUFFIX), required=True)
    parser.add_argument('--out', type=Path, default=None,
                        help='output file (with --what both: base name, .depth/.motion are inserted); '
                             'default: next to the checkpoint')
    parser.add_argument('--what', choices=['depth', 'motion', 'both'], default='both')
    parser.add_argument('--atol', type=float, default=1e-5, help='parity tolerance: atol + rtol·max|eager|')
    parser.add_argument('--rtol', type=float, default=1e-4)
    parser.add_argument('--force', action='store_true', help='overwrite existing output files (never the checkpoint)')
    args = parser.parse_args(argv)
    try:
        ckpt = load_checkpoint(args.checkpoint)
        build_models(ckpt)  # fail early, with the named keys, on a mismatched architecture
    except (FileNotFoundError, CheckpointError) as exc:
        print(f'selfdepth export: {exc}', file=sys.stderr)
        return 2
    targets = _targets(args)
    refusal = _refuse_overwrite(args.checkpoint, targets, args.force)
    if refusal:
        print(f'selfdepth export: {refusal}', file=sys.stderr)
        return 2
    ok = True
    for what, out in targets:
        out.parent.mkdir(parents=True, exist_ok=True)
        report = export_graph(what, args.format, ckpt, out, args.atol, args.rtol)
        for name, stats in report['outputs'].items():
            detail = stats.get('error') or f"max abs diff {stats['max_abs_diff']:.3g} (max |eager| " \
                                           f"{stats['max_abs_eager']:.3g})"
            print(f'{what}/{name}: {detail}')
        print(f"{'OK' if report['ok'] else 'PARITY FAILED'}: {args.format} {what} -> {out}")
        ok &= report['ok']
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
