"""multistore: a Python SDK for multi-store retail."""

__version__ = "0.1.0"
