"""``python -m selfdepth_ros_training ...`` is ``selfdepth train ...``."""
import sys

from selfdepth_ros.cli import main

if __name__ == '__main__':
    sys.exit(main(['train'] + sys.argv[1:]))
