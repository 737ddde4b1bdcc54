"""Run by test_distributed.py, alone or under ``torchrun``: one forward/backward of the first global batch,
then rank 0 saves the (all-reduced) gradients. Not a test module itself.

usage: python ddp_grad_worker.py OUT.pt RUN_DIR [--method M]
"""
import argparse
import importlib.util
import sys
from pathlib import Path

import torch

from selfdepth_ros_training import distributed
from selfdepth_ros_training.config import config_from_dict
from selfdepth_ros_training.trainer import RunOptions, Trainer

_spec = importlib.util.spec_from_file_location('training_fakes', Path(__file__).with_name('fakes.py'))
fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fakes)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument('out')
    p.add_argument('run_dir')
    p.add_argument('--method', default='monodepth_baseline')
    args = p.parse_args()
    torch.set_num_threads(1)
    frames = 3 if args.method == 'monodepth_baseline' else 2
    loss = {'automask': False} if args.method == 'monodepth_baseline' else {}  # no random tie-break noise
    cfg = config_from_dict({
        'method': args.method, 'seed': 5,
        'model': {'preset': 'small', 'encoder_width': 8, 'decoder_width': 4, 'motion_refine_width': 4,
                  'use_motion_field': args.method == 'dynamic_scenes'},
        'data': {'height': 64, 'width': 64, 'frames': frames, 'batch_size': 4, 'random_flip': True},
        'loss': loss, 'log': {'progress_bar': False}})
    info = distributed.setup('cpu')
    trainer = Trainer(cfg, fakes.RandomPairs(n=8, frames=frames), RunOptions(out=Path(args.run_dir)), info)
    batch = next(iter(trainer._loader(epoch=0, skip_batches=0)))
    out = trainer.compute_losses(batch)
    out.losses['total'].backward()
    grads = {f'{tag}.{name}': p.grad.detach().clone()
             for tag, net in (('depth', trainer.depth_net), ('motion', trainer.motion_net))
             for name, p in net.named_parameters() if p.grad is not None}
    if info.is_main:
        torch.save({'grads': grads, 'indices': batch['index'], 'world_size': info.world_size}, args.out)
    distributed.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
