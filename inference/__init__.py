"""Inference: released checkpoints on the benchmark datasets, and raw videos to summaries."""
