"""``selfdepth export``: a checkpoint to TorchScript or ONNX, with an output-parity check against eager torch.

    selfdepth export --checkpoint CKPT --format torchscript|onnx [--out PATH] [--what depth|motion|both]

Graphs (:mod:`selfdepth_ros.graphs`) have the checkpoint's fixed input size (``model_config`` height × width) and
a dynamic batch axis. Each file gets a JSON sidecar (:mod:`selfdepth_ros.exported`: config, camera, frame
interval, both graph names, parity, the eager outputs on the parity probe) so that the node and ``selfdepth
eval`` can load the files directly (``checkpoint:=<base>.depth.onnx``). Parity is measured on fresh random inputs
(a batch size other than the traced one), by loading the written file back; the command exits 1 when any output
differs by more than ``atol + rtol·max|eager|``.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import torch

from . import parity
from .backends import export_onnx, load_torchscript, torchscript_runner, trace
from .checkpoint import CheckpointError, build_models, frame_interval_s, load_checkpoint, weights_digest
from .exported import SIDECAR_FORMAT, SUFFIX, sidecar_path
from .graphs import graphs_of, output_names, probe_inputs
from .models import DepthNet, count_parameters
from .ort import ort_runner


def _random_inputs(what: str, depth_net: DepthNet, batch: int, seed: int) -> dict[str, torch.Tensor]:
    """Random images, and the depth net's own depth for the motion graph."""
    cfg = depth_net.config
    gen = torch.Generator().manual_seed(seed)
    rgb1 = torch.rand(batch, 3, cfg.height, cfg.width, generator=gen)
    if what == 'depth':
        return {'rgb': rgb1}
    rgb2 = (rgb1 + 0.05 * torch.randn(rgb1.shape, generator=gen)).clamp(0, 1)
    with torch.inference_mode():
        return {'rgb1': rgb1, 'depth1': depth_net(rgb1)[0].clone(), 'rgb2': rgb2, 'depth2': depth_net(rgb2)[0].clone()}


def _write(graph: torch.nn.Module, fmt: str, path: Path, example: dict[str, torch.Tensor], outputs: list[str]) -> None:
    if fmt == 'torchscript':
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)  # torch.jit.save's upstream notice
            torch.jit.save(trace(graph, example), str(path))
    else:
        export_onnx(graph, example, outputs, path)


def _run_file(fmt: str, path: Path, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    cpu = torch.device('cpu')
    run = ort_runner(path, cpu) if fmt == 'onnx' else torchscript_runner(load_torchscript(path, cpu))
    with torch.inference_mode():
        return run(*inputs.values())


def export_graph(what: str, fmt: str, ckpt: dict, out: Path, atol: float = 1e-5, rtol: float = 1e-4,
                 graphs: dict[str, str] | None = None) -> dict:
    """Export one graph (``what`` = 'depth' or 'motion') of a loaded checkpoint and check parity.

    ``graphs``: file names of all graphs of this export (``{what: name}``, same folder), recorded in the sidecar
    so that loading one file finds the other (default: only this one). Returns the parity report
    ``{'outputs': {name: {'max_abs_diff', 'max_abs_eager'}}, 'ok': bool}`` (also in the ``<out>.json`` sidecar).
    """
    depth_net, motion_net = build_models(ckpt, device='cpu')
    graph = graphs_of(depth_net, motion_net)[what]
    config = depth_net.config
    names = output_names(what, config)
    _write(graph, fmt, out, _random_inputs(what, depth_net, batch=1, seed=0), names)
    check = _random_inputs(what, depth_net, batch=2, seed=1)  # fresh values and another batch size than the trace
    with torch.inference_mode():
        eager = graph(**check)
        probe = graph(**probe_inputs(what, config))
    report = parity.compare(names, eager, _run_file(fmt, out, check), parity.Tolerance(atol, rtol))
    net = depth_net if what == 'depth' else motion_net
    sidecar = {'format': fmt, 'sidecar': SIDECAR_FORMAT, 'what': what,
               'inputs': {k: list(v.shape[1:]) for k, v in check.items()}, 'outputs': names, 'batch_axis': 0,
               'model_config': ckpt['model_config'], 'camera': ckpt.get('camera'), 'step': ckpt['step'],
               'frame_interval_s': frame_interval_s(ckpt),
               'weights_sha256': ckpt.get('weights_sha256') or weights_digest(ckpt['depth_net'], ckpt['motion_net']),
               'parameters': count_parameters(net), 'graphs': graphs or {what: out.name},
               'probe': parity.record_probe(names, probe), 'parity': report, 'atol': atol, 'rtol': rtol}
    sidecar_path(out).write_text(json.dumps(sidecar, indent=2))
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
    files = [p for _, out in targets for p in (out, sidecar_path(out))]
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
    parser.add_argument('--what', choices=['depth', 'motion', 'both'], default='both',
                        help='both (default) is what the node and selfdepth eval can load')
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
    graphs = {what: out.name for what, out in targets}
    ok = True
    for what, out in targets:
        out.parent.mkdir(parents=True, exist_ok=True)
        report = export_graph(what, args.format, ckpt, out, args.atol, args.rtol, graphs)
        for name, stats in report['outputs'].items():
            detail = stats.get('error') or f"max abs diff {stats['max_abs_diff']:.3g} (max |eager| " \
                                           f"{stats['max_abs_eager']:.3g})"
            print(f'{what}/{name}: {detail}')
        print(f"{'OK' if report['ok'] else 'PARITY FAILED'}: {args.format} {what} -> {out}")
        ok &= report['ok']
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
