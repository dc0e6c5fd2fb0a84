"""A small application for uv_sync's integration target."""

__version__ = "0.1.0"
