"""Training: leak-free search over learners x imbalance strategies."""
