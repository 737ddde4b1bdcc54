"""`selfdepth bag-info`: summary of a good bag, salvage note for a cut one, error exit for a missing one."""
from selfdepth_ros.bag.cli import main
from selfdepth_ros.bag.testing import write_toy_drive


def test_bag_info(tmp_path, capsys):
    write_toy_drive(tmp_path / 'bag', shifts=[4, 4])
    assert main([str(tmp_path / 'bag')]) == 0
    out = capsys.readouterr().out
    assert 'storage: mcap' in out and '/camera/image_raw' in out and 'fx=60.00' in out and '64×48' in out


def test_bag_info_truncated_and_missing(tmp_path, capsys):
    write_toy_drive(tmp_path / 'bag', shifts=[4] * 19)
    data = (tmp_path / 'bag' / 'bag.mcap').read_bytes()
    (tmp_path / 'cut.mcap').write_bytes(data[: len(data) // 2])
    assert main([str(tmp_path / 'cut.mcap')]) == 0
    captured = capsys.readouterr()
    assert 'salvaged: True' in captured.out and 'messages recovered' in captured.out
    assert 'warning: bag' in captured.err
    assert main([str(tmp_path / 'cut.mcap'), '--no-salvage']) == 1
    assert main([str(tmp_path / 'nothing')]) == 1
    assert 'no such file' in capsys.readouterr().err
