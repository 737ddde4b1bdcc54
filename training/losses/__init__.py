"""Self-supervised losses, one module per concept, equation numbers in docstrings."""
