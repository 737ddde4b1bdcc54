"""ResNet encoder: torchvision key layout, feature shapes, torchvision-format weight loading."""
import pytest
import torch

from selfdepth_ros.models import ResNetEncoder, adapt_first_conv, load_torchvision_weights


def test_feature_shapes_and_channels():
    enc = ResNetEncoder(18, width=16)
    feats = enc(torch.rand(2, 3, 64, 96))
    assert [tuple(f.shape) for f in feats] == [(2, 16, 32, 48), (2, 16, 16, 24), (2, 32, 8, 12),
                                               (2, 64, 4, 6), (2, 128, 2, 3)]
    assert enc.num_channels == [16, 16, 32, 64, 128]


@pytest.mark.parametrize('depth, blocks', [(18, (2, 2, 2, 2)), (34, (3, 4, 6, 3))])
def test_state_dict_keys_follow_torchvision(depth, blocks):
    keys = set(ResNetEncoder(depth, width=8, norm='batch').state_dict())
    for key in ('conv1.weight', 'bn1.weight', 'bn1.running_mean', 'layer1.0.conv1.weight', 'layer1.0.bn2.bias',
                'layer2.0.downsample.0.weight', 'layer2.0.downsample.1.running_var', 'layer4.1.conv2.weight'):
        assert key in keys
    for stage, count in enumerate(blocks, start=1):
        assert f'layer{stage}.{count - 1}.conv1.weight' in keys and f'layer{stage}.{count}.conv1.weight' not in keys
    assert 'layer1.0.downsample.0.weight' not in keys  # torchvision: no projection in the first stage


def test_resnet18_parameter_count_matches_torchvision():
    # torchvision resnet18 has 11,689,512 parameters of which fc holds 512*1000 + 1000.
    params = sum(p.numel() for p in ResNetEncoder(18, 64, norm='batch').parameters())
    assert params == 11_689_512 - 513_000


def test_torchvision_format_round_trip(tmp_path):
    torch.manual_seed(0)
    source = ResNetEncoder(18, width=16, norm='batch')
    for m in source.modules():  # non-trivial running statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    state = dict(source.state_dict())
    state['fc.weight'], state['fc.bias'] = torch.zeros(1000, 128), torch.zeros(1000)  # a classifier: ignored
    path = tmp_path / 'resnet18.pth'
    torch.save(state, path)
    target = ResNetEncoder(18, width=16, norm='batch')
    ignored = load_torchvision_weights(target, path)
    assert ignored == ['fc.weight', 'fc.bias']
    x = torch.rand(1, 3, 64, 64)
    for a, b in zip(source.eval()(x), target.eval()(x)):
        torch.testing.assert_close(a, b)


def test_randln_encoder_takes_batchnorm_weights_without_running_stats():
    source = ResNetEncoder(18, width=8, norm='batch')
    target = ResNetEncoder(18, width=8, norm='randln')
    ignored = load_torchvision_weights(target, source.state_dict())
    assert ignored and all(k.rsplit('.', 1)[-1] in ('running_mean', 'running_var', 'num_batches_tracked')
                           for k in ignored)
    torch.testing.assert_close(target.layer3[1].bn2.weight, source.layer3[1].bn2.weight)


def test_width_mismatch_is_a_clear_error(tmp_path):
    path = tmp_path / 'wide.pth'
    torch.save(ResNetEncoder(18, width=16).state_dict(), path)
    with pytest.raises(ValueError, match=r'shape mismatches \[.*bn1.bias: file \(16,\) vs encoder \(8,\)'):
        load_torchvision_weights(ResNetEncoder(18, width=8), path)


def test_missing_and_unexpected_keys_are_named():
    state = ResNetEncoder(18, width=8).state_dict()
    del state['layer4.1.conv2.weight']
    state['head.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"missing \['layer4.1.conv2.weight'\], unexpected \['head.weight'\]"):
        load_torchvision_weights(ResNetEncoder(18, width=8), state)
    with pytest.raises(FileNotFoundError, match='torchvision weights file not found'):
        load_torchvision_weights(ResNetEncoder(18, width=8), '/nonexistent/resnet18.pth')


def test_rgb_stem_adapted_to_two_rgbd_frames():
    torch.manual_seed(0)
    rgb_enc = ResNetEncoder(18, width=8, in_channels=3, norm='batch').eval()
    pair_enc = ResNetEncoder(18, width=8, in_channels=8, norm='batch').eval()
    load_torchvision_weights(pair_enc, rgb_enc.state_dict())
    img = torch.rand(1, 3, 32, 32)
    zeros = torch.zeros(1, 1, 32, 32)
    # The same image twice with zero depth: (w·rgb + mean(w)·0)/2 + (w·rgb)/2 = w·rgb.
    pair = torch.cat([img, zeros, img, zeros], dim=1)
    torch.testing.assert_close(pair_enc(pair)[-1], rgb_enc(img)[-1])


def test_adapt_first_conv_rules():
    w = torch.randn(4, 3, 7, 7)
    torch.testing.assert_close(adapt_first_conv(w, 6), torch.cat([w, w], 1) / 2)
    rgbd = adapt_first_conv(w, 8)
    torch.testing.assert_close(rgbd[:, 3], w.mean(1) / 2)
    torch.testing.assert_close(rgbd[:, 4:7], w / 2)
    with pytest.raises(ValueError, match='cannot adapt an RGB conv1 kernel to 5 input channels'):
        adapt_first_conv(w, 5)
