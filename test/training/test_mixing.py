"""The alternation schedule of data sources: deterministic, and a resumed run continues every source exactly."""
import pytest

from selfdepth_ros_training.mixing import Alternation, MixedBatches


def test_pattern_and_counts_are_arithmetic():
    alt = Alternation(('syn', 'real', 'real'))
    assert [alt.source(k) for k in range(7)] == ['syn', 'real', 'real', 'syn', 'real', 'real', 'syn']
    for step in range(12):
        drawn = [alt.source(k) for k in range(step)]
        assert alt.draws_before('syn', step) == drawn.count('syn')
        assert alt.draws_before('real', step) == drawn.count('real')
    assert alt.sources == ('syn', 'real')


def test_from_weights_interleaves_evenly():
    assert Alternation.from_weights({'real': 2, 'syn': 1}).pattern == ('real', 'syn', 'real')
    assert Alternation.from_weights({'a': 4, 'b': 2}).pattern == ('a', 'b', 'a')  # divided by the gcd
    assert Alternation.from_weights({'a': 1, 'b': 0}).pattern == ('a',)
    with pytest.raises(ValueError, match='integers >= 0'):
        Alternation.from_weights({'a': 0})
    with pytest.raises(ValueError, match='non-empty pattern'):
        Alternation(())


def _loader(sizes, log):
    """Source s has sizes[s] batches per epoch; epoch e's order is a rotation by e (stands in for a seeded
    shuffle); each (source, epoch, skip) the loader is asked for is logged."""
    def loader(source, epoch, skip):
        log.append((source, epoch, skip))
        n = sizes[source]
        order = [(i + epoch) % n for i in range(n)]
        return [(source, epoch, b) for b in order[skip:]]
    return loader


def test_resumed_at_any_step_continues_exactly():
    sizes = {'syn': 2, 'real': 3}
    alt = Alternation(('syn', 'real', 'real'))
    straight_log: list = []
    straight = MixedBatches(alt, _loader(sizes, straight_log), sizes)
    run = [next(straight) for _ in range(20)]
    assert [s for s, _ in run] == [alt.source(k) for k in range(20)]
    assert [b for s, b in run if s == 'syn'][:3] == [('syn', 0, 0), ('syn', 0, 1), ('syn', 1, 1)]  # epoch 1 begins
    assert straight_log[:2] == [('syn', 0, 0), ('real', 0, 0)]
    for start in range(20):
        log: list = []
        resumed = MixedBatches(alt, _loader(sizes, log), sizes, start_step=start)
        assert [next(resumed) for _ in range(20 - start)] == run[start:], start
        assert all(skip < sizes[s] for s, _, skip in log)


def test_a_source_without_batches_is_refused():
    with pytest.raises(ValueError, match=r"sources without a batch per epoch: \['real'\]"):
        MixedBatches(Alternation(('syn', 'real')), lambda *a: [], {'syn': 2, 'real': 0})


def _fakes():
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location('training_fakes', Path(__file__).with_name('fakes.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_trainer_alternates_its_datasets_and_resumes_exactly(tmp_path):
    import torch

    from selfdepth_ros_training.config import config_from_dict
    from selfdepth_ros_training.trainer import RunOptions, Trainer, TrainingError
    fakes = _fakes()
    cfg = config_from_dict({
        'seed': 2, 'model': {'preset': 'small', 'encoder_width': 8, 'decoder_width': 4, 'motion_refine_width': 4},
        'data': {'height': 64, 'width': 64, 'batch_size': 2, 'alternate': {'syn': 1, 'real': 2}},
        'log': {'every': 1, 'image_every': 0, 'checkpoint_every': 3, 'keep_last': 5, 'progress_bar': False}})
    data = {'syn': fakes.RandomPairs(n=4, seed=1), 'real': fakes.RandomPairs(n=6, seed=2, has_intrinsics=False)}

    def run(out, max_steps, resume=False):
        trainer = Trainer(cfg, data, RunOptions(out=out, max_steps=max_steps, resume=resume))
        seen, step = [], trainer.train_step

        def recording(batch):
            seen.append((batch['source'], batch['images'][:, 0, 0, 0, 0].tolist()))
            return step(batch)
        trainer.train_step = recording
        trainer.fit()
        return trainer, seen

    straight, seen = run(tmp_path / 'a', 6)
    assert [s for s, _ in seen] == ['real', 'syn', 'real'] * 2
    assert straight.model_config.learn_intrinsics  # one source lacks CameraInfo: the head learns for it
    run(tmp_path / 'b', 3)
    resumed, rest = run(tmp_path / 'b', 6, resume=True)
    assert rest == seen[3:]
    for key, value in straight.depth_net.state_dict().items():
        assert torch.equal(value, resumed.depth_net.state_dict()[key]), key
    with pytest.raises(TrainingError, match=r"data.alternate names the sources \['real', 'syn'\], the run was "
                                            r"given the datasets \['train'\]"):
        Trainer(cfg, data['syn'], RunOptions(out=tmp_path / 'c'))
