"""`selfdepth import`: each format into a bag the project's reader indexes, and one-line errors with exit code 2.

Real sources are read in place from the shared data folder (never copied); KITTI raw has no shared copy, so a
tiny synthetic drive (PNGs, a few-hundred-point scan, calib files, OXTS packets) is built here.
"""
import calendar
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from selfdepth_ros.bag.cli import main as bag_info
from selfdepth_ros.bag.index import FrameIndex
from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.importers import detect
from selfdepth_ros.importers.calib import read_intrinsics
from selfdepth_ros.importers.source import SourceError
from selfdepth_ros.importers.cli import main
from selfdepth_ros.importers.oxts import EARTH_RADIUS, oxts_imu_poses
from selfdepth_ros.importers.record import DEFAULT_START_NS

REAL = Path(os.environ['SELFDEPTH_REAL_DATA'])
ODO, DEPTH = REAL / 'kitti_odometry_snippet', REAL / 'kitti_depth_snippet'
VIDEO = REAL / 'video' / 'solidWhiteRight.mp4'


def needs(path):
    return pytest.mark.skipif(not path.exists(), reason=f'shared data {path} not present on this machine')


def _encoding(bag):
    with BagReader(bag) as r:
        return next(r.samples('/camera/image_raw')).encoding


def _custom(bag):
    return yaml.safe_load((Path(bag) / 'metadata.yaml').read_text())['rosbag2_bagfile_information']['custom_data']


# -- real sources -------------------------------------------------------------------------------------------
@needs(ODO)
def test_kitti_odometry_snippet_with_poses(tmp_path, capsys):
    assert main([str(ODO), '--out', str(tmp_path / 'bag'), '--max-frames', '8', '--quiet']) == 0
    ix = FrameIndex(tmp_path / 'bag')
    assert len(ix) == 8 and ix.image_size == (1241, 376) and ix.gt_available == ('odom',)
    assert _encoding(tmp_path / 'bag') == 'mono8' and ix.image(0).shape == (376, 1241, 3)
    np.testing.assert_allclose(ix.K[0], [[718.856, 0, 607.1928], [0, 718.856, 185.2157], [0, 0, 1]])
    poses = np.loadtxt(ODO / 'poses.txt').reshape(-1, 3, 4)[:8]
    np.testing.assert_allclose(ix.pose_gt[:, :3, :], poses, atol=1e-7)
    np.testing.assert_array_equal(ix.stamps_ns, DEFAULT_START_NS + np.arange(8) * 100_000_000)
    capsys.readouterr()
    assert bag_info([str(tmp_path / 'bag')]) == 0
    out = capsys.readouterr().out
    assert all(t in out for t in ('/camera/image_raw', '/camera/camera_info', '/gt/odom', '1241×376 fx=718.86'))


@needs(DEPTH)
def test_kitti_depth_snippet_as_images_with_depth(tmp_path, capsys):
    assert detect(DEPTH) == 'images'
    assert main([str(DEPTH), '--out', str(tmp_path / 'bag'), '--storage', 'sqlite3', '--start', '0']) == 0
    assert 'independent samples' in capsys.readouterr().err
    ix = FrameIndex(tmp_path / 'bag')
    assert len(ix) == 11 and ix.image_size == (1242, 375) and ix.gt_available == ('depth',)
    assert ix.reader.storage == 'sqlite3' and _encoding(tmp_path / 'bag') == 'rgb8'
    np.testing.assert_allclose(ix.K[0], [[721.5377, 0, 609.5593], [0, 721.5377, 172.854], [0, 0, 1]])
    # not a sequence: 10 s apart, far beyond the 0.5 s pairing gap, and flagged in the metadata
    np.testing.assert_array_equal(ix.stamps_ns, np.arange(11) * 10_000_000_000)
    assert _custom(tmp_path / 'bag')['selfdepth.independent_frames'] == 'true'
    for i in (0, 10):
        raw = cv2.imread(str(DEPTH / 'depth' / f'{i:06d}.png'), cv2.IMREAD_UNCHANGED)
        want = np.where(raw == 0, np.nan, raw.astype(np.float32) / np.float32(256)).astype(np.float32)
        got = ix.gt('depth', i)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)
        rgb = cv2.cvtColor(cv2.imread(str(DEPTH / 'image' / f'{i:06d}.png')), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(ix.image(i), rgb)


@needs(VIDEO)
def test_video_without_intrinsics_has_no_camera_info(tmp_path):
    assert main([str(VIDEO), '--out', str(tmp_path / 'bag'), '--max-frames', '10', '--quiet']) == 0
    ix = FrameIndex(tmp_path / 'bag')
    assert len(ix) == 10 and ix.K is None and ix.image_size == (960, 540) and ix.gt_available == ()
    with BagReader(tmp_path / 'bag') as r:
        assert set(r.topics) == {'/camera/image_raw'}
    np.testing.assert_array_equal(np.diff(ix.stamps_ns), 40_000_000)  # the file's 25 fps


@needs(VIDEO)
def test_video_every_resize_scales_intrinsics(tmp_path):
    assert main([str(VIDEO), '--out', str(tmp_path / 'bag'), '--max-frames', '3', '--every', '2',
                 '--resize', '480x270', '--fx', '1000', '--cx', '479.5', '--cy', '269.5', '--frame-id', 'dash',
                 '--quiet']) == 0
    ix = FrameIndex(tmp_path / 'bag')
    assert len(ix) == 3 and ix.image_size == (480, 270)
    np.testing.assert_allclose(ix.K[0], [[500, 0, 239.5], [0, 500, 134.5], [0, 0, 1]])
    np.testing.assert_array_equal(np.diff(ix.stamps_ns), 80_000_000)
    with BagReader(tmp_path / 'bag') as r:
        assert next(r.samples('/camera/image_raw')).frame_id == 'dash'


# -- synthetic KITTI raw drive ------------------------------------------------------------------------------
W, H = 40, 30
P2 = np.array([[50.0, 0, 19.5, 50.0 * 0.06], [0, 52.0, 14.5, 0.1], [0, 0, 1, 0.0027]])
c, s = np.cos(0.01), np.sin(0.01)
R_RECT = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
R_VELO = np.array([[0, -1.0, 0], [0, 0, -1], [1, 0, 0]])  # velo x fwd, y left, z up → cam x right, y down, z fwd
T_VELO = np.array([0.1, -0.2, -0.3])
STAMPS = ['2011-09-26 13:02:25.964389445', '2011-09-26 13:02:26.068', '2011-09-26 13:02:26.171545000']


def _row(name, M):
    return f'{name}: ' + ' '.join(f'{v:.12e}' for v in np.ravel(M)) + '\n'


def _to_velo(u, v, z):
    """The Velodyne point that P2·R_rect·Tr projects to pixel (u, v) at depth z (the inverse, by hand)."""
    x_rect = np.linalg.solve(P2[:, :3], np.array([u * z, v * z, z]) - P2[:, 3])
    return R_VELO.T @ (R_RECT.T @ x_rect - T_VELO)


def _reference_depth(points):
    """The README's method as a plain loop: p = P2·R0·Tr·X, drop z <= 0.1, round, inside, nearest wins."""
    Tr = np.eye(4)
    Tr[:3, :3], Tr[:3, 3] = R_VELO, T_VELO
    R0 = np.eye(4)
    R0[:3, :3] = R_RECT
    out = np.full((H, W), np.nan, np.float32)
    for x in points:
        p = P2 @ R0 @ Tr @ np.array([x[0], x[1], x[2], 1.0])
        if p[2] <= 0.1:
            continue
        u, v = int(round(p[0] / p[2])), int(round(p[1] / p[2]))
        if 0 <= u < W and 0 <= v < H and not (out[v, u] <= p[2]):
            out[v, u] = p[2]
    return out


def _kitti_raw(root, frames=3, oxts=True):
    day = root / '2011_09_26'
    drive = day / '2011_09_26_drive_0001_sync'
    for sub in ('image_02/data', 'velodyne_points/data', 'oxts/data'):
        (drive / sub).mkdir(parents=True)
    (day / 'calib_cam_to_cam.txt').write_text(
        'calib_time: 09-Jan-2012 13:57:47\ncorner_dist: 9.950000e-02\n' + _row('R_rect_00', R_RECT)
        + _row('P_rect_00', np.hstack([P2[:, :3], np.zeros((3, 1))])) + _row('P_rect_02', P2))
    (day / 'calib_velo_to_cam.txt').write_text('calib_time: 15-Mar-2012 11:37:16\n' + _row('R', R_VELO)
                                               + _row('T', T_VELO) + 'delta_f: 0 0\ndelta_c: 0 0\n')
    (day / 'calib_imu_to_velo.txt').write_text('calib_time: x\n' + _row('R', np.eye(3)) + _row('T', np.zeros(3)))
    rng = np.random.default_rng(0)
    scans = []
    for i in range(frames):
        img = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        cv2.imwrite(str(drive / 'image_02/data' / f'{i:010d}.png'), img)
        known = [_to_velo(12, 7, 5.0 + i), _to_velo(12, 7, 9.0),  # same pixel: the nearer one wins
                 _to_velo(30.4, 20.6, 7.5),  # rounds to (30, 21)
                 _to_velo(5, 5, 0.05), [-4.0, 0.0, 0.0],  # too near, behind the camera: dropped
                 _to_velo(-3, 5, 6.0), _to_velo(5, H + 2, 6.0)]  # outside the image: dropped
        background = rng.uniform([15, -12, -2], [40, 12, 1], (300, 3))
        pts = np.vstack([known, background])
        scans.append(pts)
        xyzr = np.hstack([pts, rng.uniform(0, 1, (len(pts), 1))]).astype(np.float32)
        xyzr.tofile(drive / 'velodyne_points/data' / f'{i:010d}.bin')
        if oxts:  # heading east (yaw 0), 0.0001° of longitude per frame
            values = [49.0, 8.4 + 1e-4 * i, 110.0, 0, 0, 0] + [0.0] * 24
            (drive / 'oxts/data' / f'{i:010d}.txt').write_text(' '.join(map(str, values)) + '\n')
    (drive / 'image_02/timestamps.txt').write_text('\n'.join(STAMPS[:frames]) + '\n')
    return drive, scans


def test_kitti_raw_synthetic_lidar_projection_and_poses(tmp_path):
    drive, scans = _kitti_raw(tmp_path)
    assert detect(drive) == 'kitti-raw'
    assert main([str(drive), '--out', str(tmp_path / 'bag'), '--quiet']) == 0  # calib from the drive's parent
    ix = FrameIndex(tmp_path / 'bag')
    assert len(ix) == 3 and ix.image_size == (W, H) and ix.gt_available == ('depth', 'odom')
    np.testing.assert_allclose(ix.K[0], P2[:, :3])
    t0 = calendar.timegm((2011, 9, 26, 13, 2, 25, 0, 0, 0)) * 10**9
    np.testing.assert_array_equal(ix.stamps_ns, [t0 + 964389445, t0 + 1_068_000_000, t0 + 1_171_545_000])
    for i in range(3):
        depth = ix.gt('depth', i)
        assert depth[7, 12] == pytest.approx(5.0 + i, abs=1e-5)  # the known point, nearest of two
        assert depth[21, 30] == pytest.approx(7.5, abs=1e-5)
        assert np.isnan(depth[5, 5])
        np.testing.assert_allclose(depth, _reference_depth(scans[i]), rtol=1e-6, equal_nan=True)
        assert 50 < np.isfinite(depth).sum() < 310
    # OXTS: straight east at yaw 0 with IMU = Velodyne axes: the camera moves along its own +z (≈ R_rect)
    step = np.cos(np.radians(49.0)) * np.radians(1e-4) * EARTH_RADIUS
    T_cam_velo = np.eye(4)
    T_cam_velo[:3, :3] = R_RECT @ R_VELO
    for i in range(3):
        np.testing.assert_allclose(ix.pose_gt[i][:3, :3], np.eye(3), atol=1e-9)
        np.testing.assert_allclose(ix.pose_gt[i][:3, 3], R_RECT @ R_VELO @ [i * step, 0, 0], atol=1e-6)
    assert ix.pose_gt[2][2, 3] > 0.99 * 2 * step > 10.0


def test_oxts_rotation_is_devkit_order():
    from scipy.spatial.transform import Rotation
    rpy = np.array([0.1, -0.2, 0.7])
    T = oxts_imu_poses(np.array([[49.0, 8.4, 0.0, *rpy]]))
    np.testing.assert_allclose(T[0, :3, :3], Rotation.from_euler('ZYX', rpy[::-1]).as_matrix(), atol=1e-12)


def test_calib_formats(tmp_path):
    P = np.array([[700.0, 0, 600, 45], [0, 701, 180, 0], [0, 0, 1, 0.003]])
    (tmp_path / 'k.txt').write_text('K: 721.5 0 609.5 0 721.5 172.8 0 0 1\n')
    (tmp_path / 'named.txt').write_text(_row('P0', np.hstack([np.eye(3), np.zeros((3, 1))])) + _row('P2', P))
    (tmp_path / 'bare.txt').write_text(' '.join(map(str, np.ravel(P))))  # no "P0:" and no trailing newline
    np.testing.assert_allclose(read_intrinsics(tmp_path / 'k.txt')[0], [[721.5, 0, 609.5], [0, 721.5, 172.8],
                                                                       [0, 0, 1]])
    np.testing.assert_allclose(read_intrinsics(tmp_path / 'named.txt', camera=2)[1], P)
    np.testing.assert_allclose(read_intrinsics(tmp_path / 'bare.txt', camera=0)[0], P[:, :3])



@pytest.mark.parametrize('k, why', [('1e-300 0 600 0 700 180 0 0 1', 'no valid focal length'),
                                    ('700 0 600 0 nan 180 0 0 1', 'no valid focal length'),
                                    ('700 0 600 0 700 180 0 1 1', 'last row')])
def test_calib_with_absurd_intrinsics_is_refused_by_the_nodes_rule(tmp_path, k, why):
    (tmp_path / 'k.txt').write_text(f'K: {k}\n')
    with pytest.raises(SourceError, match=why):
        read_intrinsics(tmp_path / 'k.txt')

# -- errors: exit code 2, one line naming the file, nothing left behind -------------------------------------
def _fail(capsys, argv, *needles):
    capsys.readouterr()
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()  # notes and the progress bar may come first
    err = lines[-1]
    assert 'Traceback' not in '\n'.join(lines) and err.startswith('selfdepth import: error: ')
    assert sum('selfdepth import: error' in line for line in lines) == 1
    for needle in needles:
        assert str(needle) in err, err
    return err


def _odometry_folder(root, frames=3, poses=3):
    (root / 'image_0').mkdir(parents=True)
    for i in range(frames):
        cv2.imwrite(str(root / 'image_0' / f'{i:06d}.png'), np.full((H, W), 40 * i, np.uint8))
    (root / 'calib.txt').write_text(' '.join(map(str, np.ravel(P2))) + '\n')
    (root / 'poses.txt').write_text('1 0 0 0 0 1 0 0 0 0 1 0\n' * poses)
    return root


def test_errors_missing_existing_unknown(tmp_path, capsys):
    seq = _odometry_folder(tmp_path / 'seq')
    _fail(capsys, [str(tmp_path / 'nope'), '--out', str(tmp_path / 'o')], tmp_path / 'nope', 'no such file')
    (tmp_path / 'taken').mkdir()
    _fail(capsys, [str(seq), '--out', str(tmp_path / 'taken')], tmp_path / 'taken', 'exists already')
    assert not any((tmp_path / 'taken').iterdir())
    _fail(capsys, [str(seq), '--out', str(tmp_path / 'o'), '--format', 'kitti-tracking'], 'unknown --format')
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'notes.txt').write_text('hi')
    _fail(capsys, [str(tmp_path / 'empty'), '--out', str(tmp_path / 'o')], tmp_path / 'empty', '--format')
    _fail(capsys, [str(tmp_path / 'empty' / 'notes.txt'), '--out', str(tmp_path / 'o')], 'notes.txt')
    drive, _ = _kitti_raw(tmp_path / 'raw', frames=2, oxts=False)
    _fail(capsys, [str(drive), '--out', str(tmp_path / 'o'), '--calib', str(tmp_path / 'empty')],
          'calib_cam_to_cam.txt', 'not found')
    assert not (tmp_path / 'o').exists()


def test_errors_counts_images_depth(tmp_path, capsys):
    seq = _odometry_folder(tmp_path / 'seq', frames=3, poses=2)
    _fail(capsys, [str(seq), '--out', str(tmp_path / 'o')], seq / 'poses.txt', '2 poses', '3 frames')
    (seq / 'poses.txt').unlink()
    (seq / 'calib.txt').unlink()
    _fail(capsys, [str(seq), '--out', str(tmp_path / 'o')], seq / 'calib.txt', 'not found')
    # a junk "PNG" as the last frame: fails midway, the partial bag is removed
    imgs = tmp_path / 'imgs'
    imgs.mkdir()
    for i in range(2):
        cv2.imwrite(str(imgs / f'{i:03d}.png'), np.zeros((H, W, 3), np.uint8))
    (imgs / '002.png').write_bytes(b'this is not an image')
    _fail(capsys, [str(imgs), '--out', str(tmp_path / 'o'), '--fx', '50'], imgs / '002.png', 'unreadable image')
    assert not (tmp_path / 'o').exists()
    (imgs / '002.png').unlink()
    depth = tmp_path / 'depth'
    depth.mkdir()
    cv2.imwrite(str(depth / '000.png'), np.full((H, W), 256, np.uint16))
    cv2.imwrite(str(depth / '001.png'), np.full((H + 1, W), 256, np.uint16))
    _fail(capsys, [str(imgs), '--out', str(tmp_path / 'o'), '--depth', str(depth)], depth / '001.png', 'depth is')
    assert not (tmp_path / 'o').exists()
    (depth / '001.png').unlink()
    _fail(capsys, [str(imgs), '--out', str(tmp_path / 'o'), '--depth', str(depth)], depth / '001.png', 'missing')
    drive, _ = _kitti_raw(tmp_path / 'raw', frames=2, oxts=False)
    (drive / 'velodyne_points/data/0000000001.bin').unlink()
    _fail(capsys, [str(drive), '--out', str(tmp_path / 'o')], '0000000001.bin', 'missing')


def test_images_folder_mono_without_intrinsics_and_sequence_stamps(tmp_path):
    seq = _odometry_folder(tmp_path / 'seq', frames=4)
    out = tmp_path / 'bag'
    assert main([str(seq / 'image_0'), '--out', str(out), '--fps', '5', '--start', '12.5', '--quiet']) == 0
    ix = FrameIndex(out)
    assert ix.K is None and _encoding(out) == 'mono8' and _custom(out)['selfdepth.independent_frames'] == 'false'
    np.testing.assert_array_equal(ix.stamps_ns, 12_500_000_000 + np.arange(4) * 200_000_000)
    np.testing.assert_array_equal(ix.image(3)[:, :, 0], np.full((H, W), 120, np.uint8))


def test_selfdepth_import_subcommand_exit_code(tmp_path):
    """Through the real `selfdepth` entry point: exit code 2, one line, no traceback."""
    proc = subprocess.run([sys.executable, '-m', 'selfdepth_ros.cli', 'import', str(tmp_path / 'none'),
                           '--out', str(tmp_path / 'o')], capture_output=True, text=True, timeout=60,
                          env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip() == f'selfdepth import: error: {tmp_path / "none"}: no such file or folder'
