"""Videos read from the dataset h5 as training needs them (docs/mrhisum.md, "Streaming"): a torch DataLoader whose
workers each open the file themselves and read ahead of the model, so memory holds a few videos, however many the
dataset has (Mr.HiSum's features alone are about 30 GB of float32)."""
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from common.errors import UserError
from common.h5data import VideoGroup, open_h5
from evaluation.mrhisum import FIELDS as MRHISUM_FIELDS
from evaluation.mrhisum import MrHiSumVideo, read_video

PREFETCH = 4  # videos each worker reads ahead


class H5Videos(Dataset):
    """Item i: (i, float32 features [T, D] of video keys[i], its Mr.HiSum ground truth or None).

    The file is opened on first use in each process (h5py handles do not survive a fork). A bad video becomes an
    error item, raised as a one-line UserError by `videos()` in the training process.
    """

    def __init__(self, path: Path, keys: list[str], input_size: int, source: Path, ground_truth: bool = False):
        self.path, self.keys, self.input_size, self.source = Path(path), list(keys), input_size, source
        self.ground_truth = ground_truth
        self._h5 = None

    def __len__(self) -> int:
        return len(self.keys)

    def __getstate__(self):
        return {**self.__dict__, "_h5": None}

    def __getitem__(self, index: int):
        try:
            if self._h5 is None:
                self._h5 = open_h5(self.path)
            video = VideoGroup(self._h5, self.path, self.keys[index], self.source)
            truth: MrHiSumVideo | None = read_video(video) if self.ground_truth else None
            return index, torch.from_numpy(video.features(self.input_size)), truth
        except UserError as e:
            return index, None, str(e)
        except OSError as e:
            return index, None, f"{self.path}: cannot read HDF5 file ({e})"


class IndexSampler(Sampler):
    """The indices of the next pass over a dataset, set by the caller before each pass."""

    def __init__(self):
        self.indices: list[int] = []

    def __iter__(self):
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


class Reader:
    """Reads items of an H5Videos ahead of the caller with `workers` processes (0: in this process).

    The workers are started here, once, and serve every pass: `reader(indices)` yields the items `indices` in that
    order. They are forked, so they share the training process's pages (importing torch alone makes 700 MB resident
    with the CUDA build) instead of each loading its own copy, as spawned workers would; create readers before
    anything starts threads (the process group, a writer thread), which a fork does not carry over.
    """

    def __init__(self, dataset: H5Videos, workers: int):
        self.dataset = dataset
        self.sampler = IndexSampler()
        self.loader = DataLoader(dataset, batch_size=None, sampler=self.sampler, num_workers=workers,
                                 prefetch_factor=PREFETCH if workers else None, persistent_workers=workers > 0)
        if workers:
            iter(self.loader)  # forks the workers (with nothing to read yet)

    def __call__(self, indices: list[int]) -> Iterator[tuple[int, torch.Tensor, object]]:
        self.sampler.indices = list(indices)
        for index, features, extra in self.loader:
            if features is None:
                raise UserError(extra)
            yield index, features, extra


def scored(model: torch.nn.Module, reader: Reader, indices: list[int],
           device: torch.device) -> Iterator[tuple[str, np.ndarray, object]]:
    """(video key, the model's scores in eval mode, its ground truth or None) for the items `indices` of the
    reader's dataset; scores that are not finite are a UserError."""
    dataset = reader.dataset
    model.eval()
    with torch.no_grad():
        for index, x, truth in reader(indices):
            scores = model(x.to(device))[0][0].cpu().numpy()
            if not np.isfinite(scores).all():
                raise UserError(f"{dataset.path}: {dataset.keys[index]}: the model's scores are NaN or infinite; are "
                                f"the features and the weights of a sane magnitude?")
            yield dataset.keys[index], scores, truth


def check_videos(path: Path, keys: list[str], input_size: int | None, source: Path,
                 ground_truth: bool = False) -> None:
    """Before training: every video of `keys` is in the file with features of width `input_size` (any width for
    None) and, with `ground_truth`, Mr.HiSum's fields; only the shapes are read, quick even for 30,000 videos."""
    try:
        with open_h5(path) as h5:
            for key in keys:
                video = VideoGroup(h5, path, key, source)
                shape = video.shape("features")
                if len(shape) != 2 or shape[0] == 0 or input_size not in (None, shape[1]):
                    flag = f" (--input_size {input_size})" if input_size else ""
                    raise UserError(f"{video.where('features')}: shape {shape}, expected [n_steps, "
                                    f"{input_size or 'width'}]{flag}")
                for name in MRHISUM_FIELDS if ground_truth else ():
                    video.dataset("gtsummary" if name == "gt_summary" and video.has("gtsummary") else name)
    except OSError as e:
        raise UserError(f"{path}: cannot read HDF5 file ({e})") from None
