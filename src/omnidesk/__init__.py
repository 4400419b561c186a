"""omnidesk: one request record from every customer channel."""

__version__ = "0.1.0"
