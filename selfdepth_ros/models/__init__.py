"""selfdepth_ros.models."""
