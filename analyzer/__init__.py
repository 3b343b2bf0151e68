"""docker-analyzer: offline diagnosis of Docker data roots."""

__version__ = "0.1.0"
