"""corridor: a discrete-event simulator of China–EU rail freight through Belarus."""

__version__ = "0.1.0"
