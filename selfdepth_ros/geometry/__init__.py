"""selfdepth_ros.geometry."""
