"""selfdepth_ros.sim."""
