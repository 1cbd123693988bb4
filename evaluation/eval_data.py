"""What the evaluation reads: the videos of the dataset h5 (each read once, validated) and the per-epoch score JSONs."""
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import fileio
from common.errors import UserError
from common.h5data import EVALUATION_FIELDS, VideoGroup, open_h5
from evaluation.evaluation_metrics import SummaryScorer
from evaluation.generate_summary import VideoShots


@dataclass
class EvalVideo:
    """One video as the evaluation sees it: its shots/frames, the F-score against its users, its number of scores,
    and for the baselines and the rank correlations the user summaries (binary int8 [n_users, width]) and picks."""
    key: str
    shots: VideoShots
    scorer: SummaryScorer
    n_scores: int
    users: np.ndarray
    picks: np.ndarray


class EvalDataset:
    """The evaluation fields of a dataset h5, opened once; each video is read and validated on first use."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.h5 = open_h5(self.path)
        self.videos = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.h5.close()

    def video(self, key: str, source: Path | str) -> EvalVideo:
        """The video `key`, listed in the file `source` (named in the error when the h5 has no such video)."""
        if key not in self.videos:
            self.videos[key] = read_video(VideoGroup(self.h5, self.path, key, source))
        return self.videos[key]


def read_video(video: VideoGroup) -> EvalVideo:
    """Read and check the evaluation fields of one video (docs/method.md, "Data"), consistent with each other."""
    fields = {name: video.field(name) for name in EVALUATION_FIELDS}
    where = video.where
    n_frames = video.count("n_frames")
    users = fields["user_summary"]
    if users.ndim != 2 or users.shape[0] == 0:
        raise UserError(f"{where('user_summary')}: expected a [n_users, n_frames] array, got shape {users.shape}")
    if not users.shape[1] / 2 <= n_frames <= 2 * users.shape[1]:  # the reference pads a small mismatch
        raise UserError(f"{where('user_summary')}: {users.shape[1]} frames, far from n_frames ({n_frames})")
    if ((users != 0) & (users != 1)).any():
        raise UserError(f"{where('user_summary')}: expected binary values (0 or 1)")
    picks = fields["picks"]
    if picks.ndim != 1 or picks.size == 0:
        raise UserError(f"{where('picks')}: expected a non-empty 1-D array, got shape {picks.shape}")
    picks = video.whole("picks", picks, 0, n_frames)
    if (np.diff(picks) <= 0).any():
        raise UserError(f"{where('picks')}: not increasing")
    n_steps = video.count("n_steps") if video.has("n_steps") else None
    if n_steps not in (None, picks.size):
        raise UserError(f"{video.path}: {video.key}: n_steps ({n_steps}) differs from the number of picks "
                        f"({picks.size})")
    bounds = fields["change_points"]
    if bounds.ndim != 2 or bounds.shape[1:] != (2,) or len(bounds) == 0:
        raise UserError(f"{where('change_points')}: expected a non-empty [n_shots, 2] array, got shape {bounds.shape}")
    # As in the reference, user summaries of another length than n_frames are zero-padded, and a shot may run past
    # n_frames into frames only the user summaries cover; it must start inside the video.
    bounds = video.whole("change_points", bounds, 0, max(n_frames, users.shape[1]) - 1)
    if (bounds[:, 0] > bounds[:, 1]).any():
        raise UserError(f"{where('change_points')}: a shot ends before it starts")
    if (bounds[:, 0] >= n_frames).any():
        raise UserError(f"{where('change_points')}: a shot starts after the last frame ({n_frames - 1})")
    try:
        shots = VideoShots(bounds, n_frames, picks)
    except ValueError as e:
        raise UserError(f"{video.path}: {video.key}: {e}") from None
    return EvalVideo(video.key, shots, SummaryScorer(shots, users), picks.size, users.astype(np.int8), picks)


def epoch_files(results_dir: Path, dataset: str) -> list[tuple[int, Path]]:
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


def read_scores(path: Path) -> dict[str, np.ndarray]:
    """{video: float64 score vector} of one score JSON, in the file's key order."""
    path = Path(path)
    data = fileio.read_json(path, "score file")
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


def check_length(path: Path, key: str, scores: np.ndarray, video: EvalVideo, h5_path: Path) -> None:
    """Raise a UserError naming `path` when the score vector of `key` does not fit the video: one score per pick,
    each small enough for the float32 mean of a shot's frames not to overflow."""
    if len(scores) != video.n_scores:
        raise UserError(f"{path}: {key} has {len(scores)} scores, expected {video.n_scores} "
                        f"(n_steps of {key} in {h5_path})")
    limit = float(np.finfo(np.float32).max) / (2 * video.shots.n_frames)
    if np.abs(scores).max() > limit:
        raise UserError(f"{path}: {key}: scores of magnitude above {limit:.3g}, too large for float32 shot means")
