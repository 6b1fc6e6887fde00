"""Diana's functional core: load, lint, compile rules, step, simulate."""
