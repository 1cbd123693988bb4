"""Evaluation of CA-SUM runs: summaries, F-scores, rank correlations and model selection (docs/method.md,
"Evaluation" and "Model selection"). The SumMe and TVSum evaluation needs numpy, scipy, h5py and tensorboard, never
torch; Mr.HiSum's metrics (mrhisum.py) are defined by torch's float32 kernels and use them."""
