"""What the evaluation reads: the videos of the dataset h5 (each read once, validated) and the per-epoch score JSONs."""
import json
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from evaluation.evaluation_metrics import SummaryScorer
from evaluation.generate_summary import VideoShots
from model.data_loader import is_video, open_h5
from model.errors import UserError

H5_FIELDS = ("change_points", "n_frames", "picks", "user_summary")


@dataclass
class EvalVideo:
    """One video as the evaluation sees it: its shots/frames, the F-score against its users, its number of scores."""
    key: str
    shots: VideoShots
    scorer: SummaryScorer
    n_scores: int


class EvalDataset:
    """The evaluation fields of a dataset h5, opened once; each video is read and validated on first use."""

    def __init__(self, path):
        self.path = Path(path)
        self.h5 = open_h5(self.path)
        self.videos = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.h5.close()

    def video(self, key, source):
        """The video `key`, listed in the file `source` (named in the error when the h5 has no such video)."""
        if key not in self.videos:
            try:
                group = self.h5[key] if key in self.h5 else None
            except (KeyError, OSError, ValueError) as e:  # a broken link, a corrupt object
                raise UserError(f"{self.path}: {key}: unreadable ({e})") from None
            if not is_video(group, key):
                raise UserError(f"{source}: video {key} is not in the dataset {self.path}")
            self.videos[key] = self._read(key, group)
        return self.videos[key]

    def _field(self, key, group, name):
        """The values of dataset `name` of video `key`: finite real numbers, else a UserError naming the field."""
        where = f"{self.path}: {key}/{name}"
        try:
            dataset = group[name] if name in group else None
            if dataset is None:
                raise UserError(f"{self.path}: {key}: no '{name}' dataset")
            if not isinstance(dataset, h5py.Dataset):
                raise UserError(f"{where}: not a dataset")
            value = np.asarray(dataset[()])
        except (KeyError, OSError, TypeError, ValueError) as e:
            raise UserError(f"{where}: unreadable ({e})") from None
        if not np.issubdtype(value.dtype, np.number) or np.issubdtype(value.dtype, np.complexfloating):
            raise UserError(f"{where}: not real numbers (dtype {value.dtype})")
        if not np.isfinite(value).all():
            raise UserError(f"{where}: contains NaN or infinite values")
        return value

    def _whole(self, key, name, value, low, high):
        """`value` as int64 when every element is a whole number in [low, high], else a UserError."""
        value = value.astype(np.float64)
        if value.size and ((value != np.round(value)).any() or value.min() < low or value.max() > high):
            raise UserError(f"{self.path}: {key}/{name}: expected whole numbers from {low} to {high}")
        return value.astype(np.int64)

    def _count(self, key, name, value):
        """A scalar count (n_frames, n_steps) as an int >= 1."""
        if value.size != 1:
            raise UserError(f"{self.path}: {key}/{name}: expected a whole number >= 1, got shape {value.shape}")
        count = float(value.reshape(-1)[0])
        if count != round(count) or not 1 <= count <= 2 ** 53:
            raise UserError(f"{self.path}: {key}/{name}: expected a whole number >= 1, got {count:g}")
        return int(count)

    def _read(self, key, group):
        """Read and check the evaluation fields of one video (SPEC section 1), consistent with each other."""
        fields = {name: self._field(key, group, name) for name in H5_FIELDS}
        n_frames = self._count(key, "n_frames", fields["n_frames"])
        users = fields["user_summary"]
        if users.ndim != 2 or users.shape[0] == 0:
            raise UserError(f"{self.path}: {key}/user_summary: expected a [n_users, n_frames] array, "
                            f"got shape {users.shape}")
        if not users.shape[1] / 2 <= n_frames <= 2 * users.shape[1]:  # the reference pads a small mismatch
            raise UserError(f"{self.path}: {key}/user_summary: {users.shape[1]} frames, far from n_frames ({n_frames})")
        if ((users != 0) & (users != 1)).any():
            raise UserError(f"{self.path}: {key}/user_summary: expected binary values (0 or 1)")
        picks = fields["picks"]
        if picks.ndim != 1 or picks.size == 0:
            raise UserError(f"{self.path}: {key}/picks: expected a non-empty 1-D array, got shape {picks.shape}")
        picks = self._whole(key, "picks", picks, 0, n_frames)
        if (np.diff(picks) <= 0).any():
            raise UserError(f"{self.path}: {key}/picks: not increasing")
        n_steps = self._count(key, "n_steps", self._field(key, group, "n_steps")) if "n_steps" in group else None
        if n_steps not in (None, picks.size):
            raise UserError(f"{self.path}: {key}: n_steps ({n_steps}) differs from the number of picks ({picks.size})")
        bounds = fields["change_points"]
        if bounds.ndim != 2 or bounds.shape[1:] != (2,) or len(bounds) == 0:
            raise UserError(f"{self.path}: {key}/change_points: expected a non-empty [n_shots, 2] array, "
                            f"got shape {bounds.shape}")
        # As in the reference, user summaries of another length than n_frames are zero-padded, and a shot may run
        # past n_frames into frames only the user summaries cover; it must start inside the video.
        bounds = self._whole(key, "change_points", bounds, 0, max(n_frames, users.shape[1]) - 1)
        if (bounds[:, 0] > bounds[:, 1]).any():
            raise UserError(f"{self.path}: {key}/change_points: a shot ends before it starts")
        if (bounds[:, 0] >= n_frames).any():
            raise UserError(f"{self.path}: {key}/change_points: a shot starts after the last frame ({n_frames - 1})")
        try:
            shots = VideoShots(bounds, n_frames, picks)
        except ValueError as e:
            raise UserError(f"{self.path}: {key}: {e}") from None
        return EvalVideo(key, shots, SummaryScorer(shots, users), picks.size)


def epoch_files(results_dir, dataset):
    """[(epoch, path), ...] of the {dataset}_{epoch}.json files of a results folder: epochs -1, 0, 1, ... in order."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise UserError(f"{results_dir}: results folder not found")
    pattern = re.compile(rf"{re.escape(dataset)}_(-1|0|[1-9]\d*)\.json")  # the names training writes, no others
    found = {}
    for path in results_dir.iterdir():
        match = pattern.fullmatch(path.name)
        if match:
            found[int(match.group(1))] = path
    if not found:
        raise UserError(f"{results_dir}: no {dataset}_{{epoch}}.json score files")
    epochs = sorted(found)
    for expected, epoch in zip(range(-1, len(epochs) - 1), epochs):
        if epoch != expected:
            raise UserError(f"{results_dir / f'{dataset}_{expected}.json'}: missing (the score files must cover "
                            f"epochs -1, 0, 1, ... without gaps)")
    return [(epoch, found[epoch]) for epoch in epochs]


def read_scores(path):
    """{video: float64 score vector} of one score JSON, in the file's key order."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UserError(f"{path}: score file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: unreadable score file ({e})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: not valid JSON, truncated or corrupt? ({e})") from None
    except RecursionError:
        raise UserError(f"{path}: not a score file (JSON nested too deeply)") from None
    if not isinstance(data, dict) or not data:
        raise UserError(f"{path}: expected a JSON object {{video: [score, ...]}} with at least one video")
    out = {}
    for key, values in data.items():
        try:
            scores = np.asarray(values) if isinstance(values, list) else np.empty(0, dtype=object)
        except (ValueError, OverflowError):
            scores = np.empty(0, dtype=object)
        if scores.ndim != 1 or not scores.size or scores.dtype.kind not in "iuf":
            raise UserError(f"{path}: {key}: expected a non-empty list of numbers")
        scores = scores.astype(np.float64)
        if not np.isfinite(scores).all():
            raise UserError(f"{path}: {key}: contains NaN or infinite scores")
        out[key] = scores
    return out


def check_length(path, key, scores, video, h5_path):
    """Raise a UserError naming `path` when the score vector of `key` does not fit the video: one score per pick,
    each small enough for the float32 mean of a shot's frames not to overflow."""
    if len(scores) != video.n_scores:
        raise UserError(f"{path}: {key} has {len(scores)} scores, expected {video.n_scores} "
                        f"(n_steps of {key} in {h5_path})")
    limit = float(np.finfo(np.float32).max) / (2 * video.shots.n_frames)
    if np.abs(scores).max() > limit:
        raise UserError(f"{path}: {key}: scores of magnitude above {limit:.3g}, too large for float32 shot means")
