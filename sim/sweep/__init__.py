"""Sweeps: specs and designs, planning, resume, chunks run on the executor."""
