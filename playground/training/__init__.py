"""Dataset builders and training scripts for the embedded models, each run as `python -m playground.training.<name>`."""
