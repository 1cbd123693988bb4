"""Dataset files: where they go, how to get them (download.py), and a generator of SumMe-shaped data (make_dataset.py)."""
