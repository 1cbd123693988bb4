"""The training and test videos of one split, read from the dataset h5 before any training starts."""
from collections.abc import Iterator
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from common.errors import UserError
from common.h5data import VideoGroup, open_h5


def load_features(dataset_file: Path, keys: list[str], input_size: int | None,
                  source: Path | None = None) -> list[torch.Tensor]:
    """float32 features [n_steps, input_size] of the videos `keys` (listed in `source`), in that order, read once
    from `dataset_file`; `input_size` None accepts any width."""
    try:
        with open_h5(dataset_file) as h5:
            return [torch.from_numpy(VideoGroup(h5, dataset_file, key, source).features(input_size)) for key in keys]
    except OSError as e:
        raise UserError(f"{dataset_file}: cannot read HDF5 file ({e})") from None


class VideoData:
    """Features of one split's train or test videos, held in memory."""

    def __init__(self, dataset_file: Path, keys: list[str], input_size: int, source: Path | None = None):
        self.keys = list(keys)
        self.features = load_features(dataset_file, self.keys, input_size, source)

    def __len__(self) -> int:
        return len(self.keys)

    def shuffled(self) -> Iterator[int]:
        """A new epoch's training order, as video indices.

        The order comes from a DataLoader(batch_size=1, shuffle=True) over the indices, exactly as the reference draws
        it: creating the iterator takes its seeds from the global torch generator (docs/method.md, "Reproducibility").
        """
        for index in DataLoader(range(len(self)), batch_size=1, shuffle=True):
            yield int(index)
