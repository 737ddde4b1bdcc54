"""Hot reload with the real Predictor over real DDS (loopback): what the `checkpoint` parameter reports is what
the node then runs (issue 12): another architecture than the start-up preset, the checkpoint's own settings, the
same path set again after the file changed, a refused NaN checkpoint, and '' = the untrained network."""

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from rclpy.parameter import Parameter  # noqa: E402

from selfdepth_ros.checkpoint import SHIPPED_PATH, load_checkpoint, save_checkpoint  # noqa: E402
from selfdepth_ros.nodes.perception_node import default_predictor  # noqa: E402

pytestmark = pytest.mark.ros
DT_NS = 100_000_000


def _variant(path, min_depth=None, nan=False):
    """The shipped weights re-saved with another ``min_depth`` (a setting that changes no weight) or a NaN."""
    ckpt = load_checkpoint(SHIPPED_PATH)
    config = dict(ckpt['model_config'], **({'min_depth': min_depth} if min_depth else {}))
    depth = {k: v.clone() for k, v in ckpt['depth_net'].items()}
    if nan:
        depth['encoder.bn1.weight'][0] = float('nan')
    save_checkpoint(path, model_config=config, depth_net=depth, motion_net=ckpt['motion_net'],
                    camera=ckpt['camera'], step=ckpt['step'])
    return str(path)


def test_the_checkpoint_parameter_means_what_it_says(harness, make_frame, tmp_path, console):
    h = harness({'checkpoint': '', 'model_preset': 'default', 'device': 'cpu', 'output_resolution': 'network',
                 'diagnostics_period': 0.1}, factory=default_predictor)
    node, rgb = h.node, make_frame(48, 64)

    def depth_after():
        return h.next_depth(rgb, DT_NS)

    def set_checkpoint(value):
        return node.set_parameters([Parameter('checkpoint', value=value)])[0]

    assert depth_after().shape == (128, 416)  # the untrained 'default' preset
    # A node started on a preset hot-loads the shipped model of another size.
    res = set_checkpoint('shipped')
    assert res.successful, res.reason
    base = depth_after()
    shipped = load_checkpoint(SHIPPED_PATH)['model_config']
    assert base.shape == (shipped['height'], shipped['width']) != (128, 416)
    assert node.model_info['net_size'] == f"{shipped['height']}x{shipped['width']}"
    # Settings that change no weight come from the checkpoint: min_depth is added to every depth.
    path = _variant(tmp_path / 'm.pt', min_depth=5.0)
    assert set_checkpoint(path).successful
    shift = 5.0 - shipped['min_depth']
    np.testing.assert_allclose(depth_after() - base, shift, atol=1e-4)
    # The same path set again after the file changed: reloaded.
    _variant(tmp_path / 'm.pt', min_depth=2.0)
    assert set_checkpoint(path).successful
    np.testing.assert_allclose(depth_after() - base, shift - 3.0, atol=1e-4)
    # A NaN checkpoint is refused with the tensor named; the old weights stay and it is reported.
    res = set_checkpoint(_variant(tmp_path / 'nan.pt', nan=True))
    assert not res.successful and 'depth_net.encoder.bn1.weight has 1 non-finite value' in res.reason
    assert 'still using' in res.reason and node.get_parameter('checkpoint').value == path
    kept = depth_after()
    assert np.isfinite(kept).all()
    np.testing.assert_allclose(kept - base, shift - 3.0, atol=1e-4)
    h.wait(lambda: any(s.name.endswith('perception') and any(kv.key == 'last_reload' and 'refused' in kv.value
                                                              for kv in s.values)
                       for d in h.got['diag'] for s in d.status), 10, 'the refusal in /diagnostics')
    # '' installs the untrained network, and says so.
    assert set_checkpoint('').successful
    assert depth_after().shape == (128, 416) and node.model_info['checkpoint'] == 'untrained'
    warn = console.wait('UNTRAINED', 5)
    assert warn[-1].level == 'WARN' and 'model_preset default' in warn[-1].msg
