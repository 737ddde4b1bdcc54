"""Offline learning: datasets from bags, losses, trainer, export."""
