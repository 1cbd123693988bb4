"""What every folder of the project shares: user errors and the command-line wrapper, atomic file writing, the
repository's paths, the dataset constants, the splits file and the dataset h5 schema. Needs numpy and h5py only."""
