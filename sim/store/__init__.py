"""Everything that knows the on-disk formats: run directories and their readers."""
