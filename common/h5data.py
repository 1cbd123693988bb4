"""The dataset h5 file: one group per video (docs/method.md, "Data"), read field by field with one-line errors.

Training reads `features`; evaluation reads `change_points`, `n_frames`, `picks`, `user_summary` and, when present,
`n_steps`. Every field is checked when it is read (present, a dataset of finite real numbers, of the right shape)
and a problem is a UserError naming the file, the video and the field.
"""
from pathlib import Path

import h5py
import numpy as np

from common.errors import UserError
from common.hints import missing_data_hint

TRAINING_FIELDS = ("features",)
EVALUATION_FIELDS = ("change_points", "n_frames", "picks", "user_summary")


def open_h5(path: Path) -> h5py.File:
    """Open a dataset file read-only, with a clear error when it is missing or not HDF5."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: dataset file not found{missing_data_hint(path)}")
    try:
        if not h5py.is_hdf5(path):
            raise UserError(f"{path}: not an HDF5 file")
        return h5py.File(path, "r")
    except OSError as e:
        raise UserError(f"{path}: cannot read HDF5 file ({e})") from None


class VideoGroup:
    """The group of one video in a dataset file, read field by field with checks."""

    def __init__(self, h5: h5py.File, path: Path, key: str, source: str | None = None):
        """Look up video `key`; `source` names the file that listed it (the splits or a score file) in the error
        when the dataset has no such video."""
        self.path, self.key = Path(path), key
        try:
            group = h5[key] if key in h5 else None
        except (KeyError, OSError, TypeError, ValueError) as e:  # a broken link, a corrupt object
            raise UserError(f"{self.path}: {key}: unreadable ({e})") from None
        # "/", "." or "video_1/" name other groups than the video's own
        if not (isinstance(group, h5py.Group) and group.name == f"/{key}"):
            if source is None:
                raise UserError(f"{self.path}: no video {key}")
            raise UserError(f"{source}: video {key} is not in the dataset {self.path}")
        self.group = group

    def where(self, name: str) -> str:
        return f"{self.path}: {self.key}/{name}"

    def has(self, name: str) -> bool:
        return name in self.group

    def dataset(self, name: str) -> h5py.Dataset:
        """The h5 dataset `name` of the video, not read yet."""
        try:
            dataset = self.group[name] if name in self.group else None
        except (KeyError, OSError, TypeError, ValueError) as e:  # a broken link, a corrupt object
            raise UserError(f"{self.where(name)}: unreadable ({e})") from None
        if dataset is None:
            raise UserError(f"{self.path}: {self.key}: no '{name}' dataset")
        if not isinstance(dataset, h5py.Dataset):
            raise UserError(f"{self.where(name)}: not a dataset")
        return dataset

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of dataset `name`, without reading its values."""
        return tuple(self.dataset(name).shape)

    def field(self, name: str) -> np.ndarray:
        """The values of dataset `name`: finite real numbers, else a UserError naming the field."""
        dataset = self.dataset(name)
        try:
            value = np.asarray(dataset[()])
        except (KeyError, OSError, TypeError, ValueError) as e:  # a broken link, a group for a dataset, corrupt data
            raise UserError(f"{self.where(name)}: unreadable ({e})") from None
        if not np.issubdtype(value.dtype, np.number) or np.issubdtype(value.dtype, np.complexfloating):
            raise UserError(f"{self.where(name)}: not real numbers (dtype {value.dtype})")
        if not np.isfinite(value).all():
            raise UserError(f"{self.where(name)}: contains NaN or infinite values")
        return value

    def whole(self, name: str, value: np.ndarray, low: int, high: int) -> np.ndarray:
        """`value` (of field `name`) as int64 when every element is a whole number in [low, high]."""
        value = value.astype(np.float64)
        if value.size and ((value != np.round(value)).any() or value.min() < low or value.max() > high):
            raise UserError(f"{self.where(name)}: expected whole numbers from {low} to {high}")
        return value.astype(np.int64)

    def count(self, name: str) -> int:
        """A scalar count (n_frames, n_steps) as an int >= 1."""
        value = self.field(name)
        if value.size != 1:
            raise UserError(f"{self.where(name)}: expected a whole number >= 1, got shape {value.shape}")
        count = float(value.reshape(-1)[0])
        if count != round(count) or not 1 <= count <= 2 ** 53:
            raise UserError(f"{self.where(name)}: expected a whole number >= 1, got {count:g}")
        return int(count)

    def features(self, input_size: int | None = None) -> np.ndarray:
        """float32 features [n_steps, input_size], non-empty, finite and within float32; `input_size` None accepts
        any width."""
        features = self.field("features")
        width = input_size or "width"
        if features.ndim != 2:
            raise UserError(f"{self.where('features')}: expected a 2-D array [n_steps, {width}], "
                            f"got shape {features.shape}")
        if features.shape[0] == 0:
            raise UserError(f"{self.where('features')}: empty (0 frames)")
        if input_size is not None and features.shape[1] != input_size:
            raise UserError(f"{self.where('features')}: width {features.shape[1]} does not match --input_size "
                            f"{input_size}")
        if features.dtype.kind == "f" and np.abs(features).max() > np.finfo(np.float32).max:
            raise UserError(f"{self.where('features')}: values beyond the float32 range")
        return features.astype(np.float32)
