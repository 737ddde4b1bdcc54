"""The names of the inference backends and the error of one that cannot run here; importable without torch or ROS
(the node's parameter table, the CLIs).

What each one is: :mod:`selfdepth_ros.backends`; how one is chosen and checked: :mod:`selfdepth_ros.engine`.
"""
BACKENDS = ('torch', 'compile', 'torchscript', 'onnxruntime', 'fp16', 'tensorrt')
CUDA_ONLY = ('fp16', 'tensorrt')
CHOICES = ('auto', *BACKENDS)
"""Values of the node's ``backend`` parameter and of ``selfdepth eval --backend``."""


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (missing package, provider or device); the message says which and why."""
