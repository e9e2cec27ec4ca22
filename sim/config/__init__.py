"""The scenario format: pydantic models, distributions, YAML loading, `extends`, `--set`."""
