"""Methods = a base objective + switchable parts: composition of weights, frames, nets, data and loss terms."""
from dataclasses import dataclass

import pytest
import torch

from selfdepth_ros_training.config import ConfigError, config_from_dict
from selfdepth_ros_training.config.loss import ScalePriorWeights
from selfdepth_ros_training.methods import METHODS, Method, Objective, Part, StepOutput


@dataclass
class ToyWeights:
    toy: float = 0.5


def _objective_step(weights):
    def step(batch, nets):
        depth = nets['depth'](batch['images'])
        return StepOutput({'photo': depth.mean(), 'total': depth.mean()}, depths=depth)
    return step


TOY_OBJECTIVE = Objective('toy', ScalePriorWeights, _objective_step, frames=2)
TOY_PART = Part('toy_part', ToyWeights, lambda w, batch, out, nets: {'toy': w.toy * out.depths.sum()},
                enabled=lambda w: w.toy > 0, nets={'critic': lambda model: torch.nn.Linear(2, 1)},
                data=('depth_gt',))


def test_the_shipped_methods_declare_frames_and_weights_once():
    assert METHODS['dynamic_scenes'].frames == 2 and METHODS['monodepth_baseline'].frames == 3
    names = [p.name for p in METHODS['dynamic_scenes'].parts]
    assert names[:2] == ['scale_prior', 'supervised_depth'] and {'pseudo_labels', 'relative_depth'} <= set(names)
    cfg = config_from_dict({'method': 'monodepth_baseline', 'loss': {'depth_scale_prior': 0.1, 'num_scales': 2}})
    assert isinstance(cfg.loss, METHODS['monodepth_baseline'].weights)
    assert (cfg.loss.depth_scale_prior, cfg.loss.num_scales, cfg.loss.ssim_alpha) == (0.1, 2, 0.85)


def test_parts_add_their_terms_to_the_total_only_when_enabled():
    method = Method('toy', TOY_OBJECTIVE, parts=(TOY_PART,))
    depth = torch.full((1, 1, 2, 2), 2.0)
    nets = {'depth': lambda images: depth}
    out = method.build(method.weights())({'images': None}, nets)
    assert out.losses['toy'].item() == 0.5 * 8.0 and out.losses['total'].item() == 2.0 + 4.0
    off = method.weights(toy=0.0)
    assert set(method.build(off)({'images': None}, nets).losses) == {'photo', 'total'}
    assert set(method.nets(method.weights())) == {'critic'} and method.nets(off) == {}
    assert method.data(method.weights()) == ('depth_gt',) and method.data(off) == ()


def test_bad_compositions_are_refused_with_the_names():
    with pytest.raises(TypeError, match="part 'toy_part' needs 3 frames per sample, objective 'toy' uses 2"):
        Method('toy', TOY_OBJECTIVE, parts=(Part('toy_part', ToyWeights, TOY_PART.apply, TOY_PART.enabled, frames=3),))
    with pytest.raises(TypeError, match="'depth_scale_prior' is declared by both ScalePriorWeights and Scale"):
        Method('toy', TOY_OBJECTIVE, parts=(Part('again', ScalePriorWeights, TOY_PART.apply, TOY_PART.enabled),))


def test_a_registered_method_is_reachable_from_a_recipe(monkeypatch):
    monkeypatch.setitem(METHODS, 'toy', Method('toy', TOY_OBJECTIVE, parts=(TOY_PART,)))
    cfg = config_from_dict({'method': 'toy', 'loss': {'toy': 2.0}})
    assert cfg.data.frames == 2 and cfg.loss.toy == 2.0
    with pytest.raises(ConfigError, match="loss: unknown key 'tyo'; valid keys: toy, depth_scale_prior"):
        config_from_dict({'method': 'toy', 'loss': {'tyo': 2.0}})


def test_bidirectional_automask_is_reachable_from_the_recipe():
    """monodepth_baseline with loss.bidirectional_automask adds 004 eq. (10)'s t → t' term to the t' → t one
    (one scale, so the forward term and its tie-break noise are the same in both runs)."""
    from selfdepth_ros.checkpoint import build_models

    base = {'method': 'monodepth_baseline',
            'model': {'preset': 'small', 'encoder_width': 8, 'decoder_width': 4, 'motion_refine_width': 4,
                      'use_motion_field': False},
            'data': {'height': 64, 'width': 64}, 'loss': {'num_scales': 1}}
    one = config_from_dict(base)
    both = config_from_dict({**base, 'loss': {'num_scales': 1, 'bidirectional_automask': True}})
    assert not one.loss.bidirectional_automask and both.loss.bidirectional_automask
    depth_net, motion_net = build_models(one.model)
    g = torch.Generator().manual_seed(0)
    base_image = torch.rand(2, 3, 64, 72, generator=g)
    images = torch.stack([base_image[..., s:s + 64] for s in (0, 4, 8)], dim=1)  # a pan: (t-1, t, t+1)
    batch = {'images': images, 'K': torch.tensor([[50.0, 0, 31.5], [0, 50.0, 31.5], [0, 0, 1]]).expand(2, 3, 3),
             'has_intrinsics': torch.tensor([True, True])}
    nets = {'depth': depth_net, 'motion': motion_net}
    losses = []
    for cfg in (one, both):
        torch.manual_seed(1)
        losses.append(METHODS[cfg.method].build(cfg.loss)(batch, nets).losses)
    assert losses[1]['photometric'] > losses[0]['photometric'] > 0
