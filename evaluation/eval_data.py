"""What the evaluation reads: the videos of the dataset h5 (each read once, validated) and the per-epoch score JSONs."""
import json
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from evaluation.evaluation_metrics import SummaryScorer
from evaluation.generate_summary import VideoShots
from model.data_loader import open_h5
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
            if key not in self.h5 or not isinstance(self.h5[key], h5py.Group):
                raise UserError(f"{source}: video {key} is not in the dataset {self.path}")
            self.videos[key] = self._read(key)
        return self.videos[key]

    def _read(self, key):
        group = self.h5[key]
        fields = {}
        for name in H5_FIELDS:
            if name not in group:
                raise UserError(f"{self.path}: {key}: no '{name}' dataset")
            try:
                fields[name] = np.asarray(group[name][()])
            except (OSError, TypeError, ValueError) as e:
                raise UserError(f"{self.path}: {key}/{name}: unreadable ({e})") from None
            if not np.issubdtype(fields[name].dtype, np.number):
                raise UserError(f"{self.path}: {key}/{name}: not numeric (dtype {fields[name].dtype})")
        users, picks = fields["user_summary"], fields["picks"]
        if users.ndim != 2 or users.shape[0] == 0 or not np.isfinite(users).all():
            raise UserError(f"{self.path}: {key}/user_summary: expected a finite [n_users, n_frames] array, "
                            f"got shape {users.shape}")
        if fields["n_frames"].size != 1:
            raise UserError(f"{self.path}: {key}/n_frames: expected a scalar, got shape {fields['n_frames'].shape}")
        if "n_steps" in group and int(np.asarray(group["n_steps"][()]).reshape(-1)[0]) != picks.size:
            raise UserError(f"{self.path}: {key}: n_steps ({int(group['n_steps'][()])}) differs from the number of "
                            f"picks ({picks.size})")
        try:
            shots = VideoShots(fields["change_points"], int(fields["n_frames"].reshape(-1)[0]), picks)
        except ValueError as e:
            raise UserError(f"{self.path}: {key}: {e}") from None
        return EvalVideo(key, shots, SummaryScorer(shots, users), picks.size)


def epoch_files(results_dir, dataset):
    """[(epoch, path), ...] of the {dataset}_{epoch}.json files of a results folder: epochs -1, 0, 1, ... in order."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise UserError(f"{results_dir}: results folder not found")
    pattern = re.compile(rf"{re.escape(dataset)}_(-?\d+)\.json")
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
    """Raise a UserError naming `path` when the score vector of `key` does not have one score per pick."""
    if len(scores) != video.n_scores:
        raise UserError(f"{path}: {key} has {len(scores)} scores, expected {video.n_scores} "
                        f"(n_steps of {key} in {h5_path})")
