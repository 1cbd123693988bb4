"""Reading the dataset h5 file and the splits JSON (SPEC section 1), validated before any training starts."""
import json
from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import DataLoader

from model.errors import UserError


def load_splits(path):
    """The list of {"train_keys": [...], "test_keys": [...]} objects in a splits JSON file."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: splits file not found")
    try:
        splits = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{path}: not a valid JSON splits file ({e})") from None
    except RecursionError:
        raise UserError(f"{path}: not a valid JSON splits file (nested too deeply)") from None
    if not isinstance(splits, list) or not splits:
        raise UserError(f"{path}: expected a non-empty JSON list of splits")
    for k, split in enumerate(splits):
        if not isinstance(split, dict):
            raise UserError(f"{path}: split {k} is not an object with train_keys and test_keys")
        for part in ("train_keys", "test_keys"):
            keys = split.get(part)
            if not isinstance(keys, list) or not keys or not all(isinstance(key, str) for key in keys):
                raise UserError(f"{path}: split {k}: {part} must be a non-empty list of video names")
    return splits


def open_h5(path):
    """Open a dataset file read-only, with a clear error when it is missing or not HDF5."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: dataset file not found")
    try:
        if not h5py.is_hdf5(path):
            raise UserError(f"{path}: not an HDF5 file")
        return h5py.File(path, "r")
    except OSError as e:
        raise UserError(f"{path}: cannot read HDF5 file ({e})") from None


def is_video(group, key):
    """Whether `group` (found under the name `key`) is a video's group; "/", "." or "video_1/" name other groups."""
    return isinstance(group, h5py.Group) and group.name == f"/{key}"


def read_features(h5, path, key, input_size):
    """Features of one video as a float32 tensor [n_steps, input_size], checked for shape and finiteness.

    `input_size` None accepts any width."""
    try:
        group = h5[key] if key in h5 else None
        if not is_video(group, key):
            raise UserError(f"{path}: video {key} (from the splits file) is not in the dataset")
        if "features" not in group:
            raise UserError(f"{path}: {key}: no 'features' dataset")
        features = np.asarray(group["features"][()])
    except (KeyError, OSError, TypeError, ValueError) as e:  # a broken link, a group for a dataset, corrupt data
        raise UserError(f"{path}: {key}/features: unreadable ({e})") from None
    if features.ndim != 2:
        raise UserError(f"{path}: {key}/features: expected a 2-D array [n_steps, {input_size or 'width'}], "
                        f"got shape {features.shape}")
    if features.shape[0] == 0:
        raise UserError(f"{path}: {key}/features: empty (0 frames)")
    if input_size is not None and features.shape[1] != input_size:
        raise UserError(f"{path}: {key}/features: width {features.shape[1]} does not match --input_size {input_size}")
    if not np.issubdtype(features.dtype, np.number) or np.issubdtype(features.dtype, np.complexfloating):
        raise UserError(f"{path}: {key}/features: not a real numeric array (dtype {features.dtype})")
    if not np.isfinite(features).all():
        raise UserError(f"{path}: {key}/features: contains NaN or infinite values")
    if features.dtype.kind == "f" and np.abs(features).max() > np.finfo(np.float32).max:
        raise UserError(f"{path}: {key}/features: values beyond the float32 range")
    features = features.astype(np.float32)
    return torch.from_numpy(features)


def load_features(dataset_file, keys, input_size):
    """Features of the videos `keys`, in that order, read once from `dataset_file`."""
    try:
        with open_h5(dataset_file) as h5:
            return [read_features(h5, dataset_file, key, input_size) for key in keys]
    except OSError as e:
        raise UserError(f"{dataset_file}: cannot read HDF5 file ({e})") from None


class VideoData:
    """Features of one split's train or test videos, held in memory."""

    def __init__(self, dataset_file, keys, input_size):
        self.keys = list(keys)
        self.features = load_features(dataset_file, self.keys, input_size)

    def __len__(self):
        return len(self.keys)

    def shuffled(self):
        """A new epoch's training order, as video indices.

        The order comes from a DataLoader(batch_size=1, shuffle=True) over the indices, exactly as the reference draws
        it: creating the iterator takes its seeds from the global torch generator (SPEC section 3, contract step 4).
        """
        for index in DataLoader(range(len(self)), batch_size=1, shuffle=True):
            yield int(index)
