"""package.xml declares a valid rosdep key for every third-party import of the installed code (an offline stand-in
for `rosdep check`), and none of the keys that made `rosdep install` abort; what rosdep cannot install is a pip
requirement in requirements-core.txt.

The import scan is real (``ast`` over every installed module and launch file); the key table below is the
reviewed mapping, with where each key was checked. Adding an import without adding it here fails the test.
"""
import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ('selfdepth_ros', 'selfdepth_ros_training', 'launch')   # what setup.py installs, plus the launch files

# import name -> rosdep key (ROS package names; rosdistro rosdep/python.yaml keys)
ROSDEP = {
    'rclpy': 'rclpy', 'rcl_interfaces': 'rcl_interfaces', 'builtin_interfaces': 'builtin_interfaces',
    'std_msgs': 'std_msgs', 'sensor_msgs': 'sensor_msgs', 'nav_msgs': 'nav_msgs', 'geometry_msgs': 'geometry_msgs',
    'diagnostic_msgs': 'diagnostic_msgs', 'tf2_msgs': 'tf2_msgs', 'std_srvs': 'std_srvs',
    'tf2_ros': 'tf2_ros_py',                  # the Python tf2_ros module ships in tf2_ros_py (tf2_ros is C++)
    'ament_index_python': 'ament_index_python', 'launch': 'launch', 'launch_ros': 'launch_ros',
    'numpy': 'python3-numpy', 'scipy': 'python3-scipy', 'cv2': 'python3-opencv', 'yaml': 'python3-yaml',
    'tqdm': 'python3-tqdm', 'matplotlib': 'python3-matplotlib',
    'rosbags': 'python3-rosbags-pip',         # ros/rosdistro#37795 (there is no python3-rosbags key)
    'kornia': 'python3-kornia-pip',           # ros/rosdistro#41305
    'onnxruntime': 'python3-onnxruntime-pip',  # selfdepth export --format onnx
}
# import name -> PyPI name in requirements-core.txt, for imports without a usable rosdep key
PIP_ONLY = {
    'torch': 'torch',       # python3-torch: no Ubuntu 24.04 (Jazzy/Kilted) package; older ones are torch 1.x
    'evo': 'evo', 'mcap': 'mcap', 'lz4': 'lz4', 'zstandard': 'zstandard',
}
OURS = {'selfdepth_ros', 'selfdepth_ros_training', 'bench'}
# Keys that do not exist or are wrong for Python code: rosdep install aborts (or installs the C++ package).
KNOWN_BAD = {'python3-rosbags': 'python3-rosbags-pip', 'tf2_ros': 'tf2_ros_py', 'python3-kornia': 'python3-kornia-pip',
             'python3-torch': 'pip (requirements-core.txt)', 'python3-evo': 'pip (requirements-core.txt)'}
# Run-time tools (not imports) the package starts: `ros2 launch`, `ros2 bag play` of MCAP bags (replay.launch.py).
TOOLS = {'ros2launch', 'ros2bag', 'rosbag2_storage_mcap'}


def _top_level_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob('*.py')):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split('.')[0]
                    if top not in sys.stdlib_module_names and top not in OURS:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _package():
    catkin_pkg = pytest.importorskip('catkin_pkg.package')
    pkg = catkin_pkg.parse_package_string((ROOT / 'package.xml').read_text())
    pkg.validate()  # format 3 schema rules: names, versions, duplicate dependencies
    return pkg


def _run_depends(pkg) -> set[str]:
    return {d.name for d in pkg.exec_depends + pkg.build_export_depends} | \
        {d.name for d in getattr(pkg, 'depends', [])} | {d.name for d in pkg.build_depends if d.name in TOOLS}


def test_every_third_party_import_has_a_declared_rosdep_key_or_a_pip_requirement():
    pkg, imports = _package(), _top_level_imports()
    unknown = {name: sorted(where)[:3] for name, where in imports.items()
               if name not in ROSDEP and name not in PIP_ONLY}
    assert not unknown, f'imports without a rosdep key or pip requirement in this table: {unknown}'
    declared = _run_depends(pkg)
    missing = {name: ROSDEP[name] for name in imports if name in ROSDEP and ROSDEP[name] not in declared}
    assert not missing, f'package.xml lacks <exec_depend> for {missing}'
    requirements = {re.split(r'[=<>~!\[ ;]', line.strip())[0].lower()
                    for line in (ROOT / 'requirements-core.txt').read_text().splitlines()
                    if line.strip() and not line.startswith(('#', '-'))}
    unlisted = {name: pip for name, pip in PIP_ONLY.items() if name in imports and pip.lower() not in requirements}
    assert not unlisted, f'requirements-core.txt lacks {unlisted}'


def test_no_known_bad_keys_and_the_tools_replay_needs():
    declared = {d.name for d in _package().exec_depends + _package().build_depends + _package().test_depends}
    bad = {key: fix for key, fix in KNOWN_BAD.items() if key in declared}
    assert not bad, f'invalid rosdep keys in package.xml (use instead): {bad}'
    assert TOOLS <= _run_depends(_package())


def test_the_table_covers_what_the_code_imports():
    """Guards the scan itself: the imports this table exists for are really found."""
    imports = _top_level_imports()
    assert {'rclpy', 'tf2_ros', 'rosbags', 'kornia', 'torch', 'ament_index_python', 'launch_ros'} <= set(imports)
