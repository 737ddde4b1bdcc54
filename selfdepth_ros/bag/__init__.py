"""selfdepth_ros.bag."""
