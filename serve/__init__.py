"""`make serve` / `imbalanced-serve`: the scoring function behind a local HTTP endpoint."""
