"""The `corridor` command: the only layer that prints."""
