"""Evaluation of CA-SUM runs: summaries, F-scores, rank correlations and model selection (docs/method.md,
"Evaluation" and "Model selection"). Needs numpy, scipy, h5py and tensorboard, never torch."""
