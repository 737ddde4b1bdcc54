"""selfdepth_ros.eval."""
