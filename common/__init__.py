"""What every folder of the project shares: user errors, warnings and the command-line wrapper, the hints on missing
data, atomic file writing, the repository's paths, the dataset constants, the splits file, the dataset h5 schema and
the checks for degenerate features and scores. Needs numpy, h5py and tqdm (tblog.py: TensorBoard)."""
