"""Training: the typed config, the loop with early stopping and resumable checkpoints, learning curves."""
