"""Dataset files: where they go, how to get them (download.py), and generated data in their layout (make_dataset.py)."""
