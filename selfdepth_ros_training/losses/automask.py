"""Per-pixel minimum reprojection with (bi-directional) auto-masking — seed 004 eq. (10), after monodepth2 —
and the baseline ``monodepth_loss`` built from it.

Auto-mask (004): keep a pixel only where the best warped reconstruction beats the best *un-warped* source,
``min_s L_pe(x_s, x_t) > min_s L_pe(W(x_s), x_t)``. Pixels that look the same without warping — objects moving
with the camera, a static camera — are dropped. Bi-directional: the same is done reconstructing each source
frame from the target (t → t'), and the two masked terms are added (eq. 10).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from selfdepth_ros.geometry.checks import check_shape
from selfdepth_ros_training.config.loss import AUTOMASK_TIE_BREAK, MonodepthWeights
from selfdepth_ros_training.losses.photometric import reprojection_error
from selfdepth_ros_training.losses.smoothness import edge_aware_smoothness

__all__ = ['automasked_min_reprojection', 'bidirectional_automask_loss', 'monodepth_loss']

Frames = torch.Tensor | Sequence[torch.Tensor]


def _as_list(name: str, frames: Frames, count: int | None) -> list[torch.Tensor]:
    items = [frames] if isinstance(frames, torch.Tensor) else list(frames)
    if not items:
        raise ValueError(f'{name} must hold at least one B×C×H×W frame')
    if count is not None and len(items) == 1 and count > 1:
        items = items * count
    if count is not None and len(items) != count:
        raise ValueError(f'{name} must hold {count} frames (one per source), got {len(items)}')
    for i, x in enumerate(items):
        check_shape(f'{name}[{i}]', x, ['B', 'C', 'H', 'W'])
    return items


def automasked_min_reprojection(targets: Frames, reconstructions: Frames, identity_reconstructions: Frames, *,
                                alpha: float = MonodepthWeights.ssim_alpha, automask: bool = True,
                                tie_break: float = AUTOMASK_TIE_BREAK,
                                generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """One direction of 004 eq. (10): ``mask ∘ min_s L_pe(reconstruction_s, target_s)``.

    Args:
        targets: B×C×H×W frame(s) being reconstructed: one tensor shared by all sources (t' → t), or one per
            source (t → t').
        reconstructions: S frames, each the target reconstructed by warping a source (B×C×H×W, [0, 1]).
        identity_reconstructions: S un-warped stand-ins for the reconstructions (the sources themselves for
            t' → t; the target frame for t → t').
        alpha: SSIM weight of ``L_pe`` (:func:`~selfdepth_ros_training.losses.photometric.reprojection_error`).
        automask: if False, keep every pixel (plain per-pixel minimum).
        tie_break: std of the Gaussian noise added to the identity error (monodepth2) so exact ties — e.g. a
            static textureless region — are broken at random instead of always kept; 0 disables.
        generator: RNG for the tie-break noise.

    Returns:
        dict: ``loss`` scalar ``mean(mask · min_error)`` over all pixels (its gradient equals monodepth2's
        ``mean(min(identity, warped))``; the identity part is constant for the networks and left out),
        ``min_error`` B×1×H×W, ``mask`` B×1×H×W float (no gradient), ``argmin`` B×1×H×W source index.
    """
    recon = _as_list('reconstructions', reconstructions, None)
    count = len(recon)
    tgt = _as_list('targets', targets, count)
    ident = _as_list('identity_reconstructions', identity_reconstructions, count)
    for name, seq in (('targets', tgt), ('identity_reconstructions', ident)):
        for i, (a, b) in enumerate(zip(seq, recon)):
            if a.shape != b.shape:
                raise ValueError(f'{name}[{i}] must have the shape of reconstructions[{i}] {tuple(b.shape)}, '
                                 f'got {tuple(a.shape)}')
    warped = torch.cat([reprojection_error(t, r, alpha) for t, r in zip(tgt, recon)], dim=1)
    min_error, argmin = warped.min(dim=1, keepdim=True)
    if automask:
        with torch.no_grad():
            identity = torch.cat([reprojection_error(t, r, alpha) for t, r in zip(tgt, ident)], dim=1)
            identity = identity.min(dim=1, keepdim=True).values
            if tie_break > 0:
                noise = torch.randn(identity.shape, generator=generator, dtype=identity.dtype,
                                    device='cpu' if generator is None else generator.device)
                identity = identity + tie_break * noise.to(identity.device)
            mask = (identity > min_error).to(min_error.dtype)
    else:
        mask = torch.ones_like(min_error).detach()
    return {'loss': (mask * min_error).mean(), 'min_error': min_error, 'mask': mask, 'argmin': argmin}


def bidirectional_automask_loss(target: torch.Tensor, warped_sources: Frames, sources: Frames,
                                warped_targets: Frames, **kwargs) -> dict[str, torch.Tensor]:
    """004 eq. (10): ``mask_{t'→t} ∘ min L_pe(W(x_t'), x_t) + mask_{t→t'} ∘ min L_pe(W(x_t), x_t')``.

    Args:
        target: B×C×H×W frame t.
        warped_sources: S frames, source t' warped onto t's grid (reconstructions of t).
        sources: S frames x_t' (also the targets of the backward direction).
        warped_targets: S frames, t warped onto each t' grid (reconstructions of each x_t').
        **kwargs: passed to :func:`automasked_min_reprojection` (alpha, automask, tie_break, generator).

    Returns:
        dict: ``loss`` (sum of both directions), ``forward``/``backward`` (each direction's loss),
        ``forward_mask``/``backward_mask`` (B×1×H×W).
    """
    fwd = automasked_min_reprojection(target, warped_sources, sources, **kwargs)
    bwd = automasked_min_reprojection(sources, warped_targets, target, **kwargs)
    return {'loss': fwd['loss'] + bwd['loss'], 'forward': fwd['loss'], 'backward': bwd['loss'],
            'forward_mask': fwd['mask'], 'backward_mask': bwd['mask']}


def monodepth_loss(target: torch.Tensor, warped_sources: Frames, sources: Frames, disparity: torch.Tensor, *,
                   smoothness_weight: float = MonodepthWeights.smoothness, alpha: float = MonodepthWeights.ssim_alpha,
                   automask: bool = True, warped_targets: Frames | None = None, tie_break: float = AUTOMASK_TIE_BREAK,
                   generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Baseline (monodepth2) loss at one scale: auto-masked per-pixel minimum reprojection + smoothness.

    ``total = photometric + smoothness_weight · L_smooth`` with ``L_pe = 0.85·(1−SSIM)/2 + 0.15·L1``
    (3×3 reflection-padded SSIM) and the edge-aware smoothness of eq. (5) on mean-normalised disparity.
    For monodepth2's multi-scale recipe call once per scale with ``smoothness_weight = 1e-3 / 2**scale`` (the
    warped sources built from that scale's depth upsampled to full resolution) and average the totals.

    Args:
        target: B×3×H×W frame t in [0, 1].
        warped_sources: S frames (B×3×H×W), each source warped onto t (already resampled by the caller).
        sources: S un-warped source frames (for the auto-mask).
        disparity: B×1×H×W disparity of t (any positive scale), at target resolution.
        smoothness_weight: weight of the smoothness term.
        alpha: SSIM weight in ``L_pe``.
        automask: use the auto-mask (else plain per-pixel minimum).
        warped_targets: if given, t warped onto each source grid: adds 004's backward direction (eq. 10).
        tie_break, generator: see :func:`automasked_min_reprojection`.

    Returns:
        dict: ``photometric``, ``smoothness`` (weighted), ``total`` scalars and ``mask`` (B×1×H×W, forward).
    """
    opts = {'alpha': alpha, 'automask': automask, 'tie_break': tie_break, 'generator': generator}
    if warped_targets is None:
        photo = automasked_min_reprojection(target, warped_sources, sources, **opts)
        photometric, mask = photo['loss'], photo['mask']
    else:
        photo = bidirectional_automask_loss(target, warped_sources, sources, warped_targets, **opts)
        photometric, mask = photo['loss'], photo['forward_mask']
    smooth = smoothness_weight * edge_aware_smoothness(disparity, target)
    return {'photometric': photometric, 'smoothness': smooth, 'total': photometric + smooth, 'mask': mask}
