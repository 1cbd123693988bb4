"""Evaluation of CA-SUM runs: summaries, F-scores, rank correlations and model selection (SPEC sections 4-5)."""
