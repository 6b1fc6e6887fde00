"""The `diana` command line: a thin shell over the engine."""
