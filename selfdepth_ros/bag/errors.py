"""The one exception of the bag package."""
from __future__ import annotations


class BagError(ValueError):
    """A bag cannot be read or written as asked; the message names the bag, the topic and the reason."""
