"""selfdepth_ros.nodes."""
