"""One run end to end: resolve, simulate (with the choice when on), write the store."""
