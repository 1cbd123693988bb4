"""An experiment folder as training leaves it (docs/method.md, "Outputs"): which runs it holds, and the files model
selection reads from each run (scalars.csv, the score JSONs, f_scores.txt).

    {exp_dir}/reg{sigma}/{Dataset}/logs/split{k}/      TensorBoard events, scalars.csv once exported
    {exp_dir}/reg{sigma}/{Dataset}/results/split{k}/   {Dataset}_{epoch}.json, f_scores.txt once computed
"""
import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import fileio
from common.errors import UserError
from evaluation.eval_data import read_scores
from evaluation.selection import improvement, mean_score

SIGMA_FOLDER = re.compile(r"reg(\d+(?:\.\d+)?)")
SEED_FOLDER = re.compile(r"seed(-?\d+)")


@dataclass(frozen=True)
class RunFolders:
    """The folders of one run of the grid."""
    sigma: float
    split: int
    log_dir: Path
    results_dir: Path


@dataclass
class Grid:
    """The runs an experiment folder holds for one dataset: `runs[(sigma, split)]`, the sigmas found (rows of the
    selection), and what is missing for a full grid of those sigmas over `n_splits` splits."""
    exp_dir: Path
    dataset: str
    n_splits: int
    sigmas: list[float]
    runs: dict[tuple[float, int], RunFolders]

    @property
    def missing(self) -> list[tuple[float, int]]:
        return [(s, k) for s in self.sigmas for k in range(self.n_splits) if (s, k) not in self.runs]

    @property
    def splits(self) -> list[int]:
        """The splits with at least one run."""
        return sorted({k for _, k in self.runs})

    def missing_note(self) -> str | None:
        """One line saying which runs of the grid are not there, or None when it is complete."""
        missing = self.missing
        if not missing:
            return None
        shown = ", ".join(f"\u03c3={s} split {k}" for s, k in missing[:6]) + (" ..." if len(missing) > 6 else "")
        empty = [k for k in range(self.n_splits) if k not in self.splits]
        skipped = f"; splits {', '.join(map(str, empty))} have no run and are left out" if empty else ""
        return (f"note: {len(missing)} of the {len(self.sigmas) * self.n_splits} runs of the grid are missing "
                f"({shown}): each split chooses among the sigmas it has{skipped}")


def sigma_folders(exp_dir: Path, dataset: str) -> list[float]:
    """The sigmas of the reg{sigma}/{dataset}/ folders of an experiment, in increasing order."""
    found = []
    for path in Path(exp_dir).iterdir():
        match = SIGMA_FOLDER.fullmatch(path.name)
        if match and (path / dataset).is_dir() and f"reg{float(match.group(1))}" == path.name:
            found.append(float(match.group(1)))
    return sorted(found)


def find_runs(exp_dir: Path, dataset: str, n_splits: int) -> Grid:
    """The runs of `dataset` in the experiment folder: a run is there when its logs/ and results/ folders are.

    A grid with runs missing is evaluated on what it has (Grid.missing_note says what is missing); one with no run
    at all is a UserError saying what an experiment holds."""
    exp_dir = Path(exp_dir)
    if not exp_dir.is_dir():
        raise UserError(f"{exp_dir}: experiment folder not found")
    sigmas = sigma_folders(exp_dir, dataset)
    runs = {}
    for sigma in sigmas:
        base = exp_dir / f"reg{sigma}" / dataset
        for split in range(n_splits):
            log_dir, results_dir = base / "logs" / f"split{split}", base / "results" / f"split{split}"
            if log_dir.is_dir() and results_dir.is_dir():
                runs[sigma, split] = RunFolders(sigma, split, log_dir, results_dir)
    if not runs:
        raise UserError(f"{exp_dir}: no {dataset} runs (an experiment holds reg{{sigma}}/{dataset}/logs/split{{k}} and "
                        f"results/split{{k}} for splits 0..{n_splits - 1} of the splits file; "
                        f"bash run_{dataset.lower()}_splits.sh trains them)")
    return Grid(exp_dir, dataset, n_splits, sigmas, runs)


def seed_experiments(exp_dir: Path) -> list[tuple[int, Path]]:
    """[(seed, folder)] by seed when `exp_dir` holds one experiment per seed (seed{S}/ folders and no reg*/);
    [] when it is a single experiment."""
    exp_dir = Path(exp_dir)
    if not exp_dir.is_dir() or any(SIGMA_FOLDER.fullmatch(p.name) for p in exp_dir.iterdir()):
        return []
    matches = ((SEED_FOLDER.fullmatch(p.name), p) for p in exp_dir.iterdir() if p.is_dir())
    return sorted((int(m.group(1)), p) for m, p in matches if m)


def read_losses(path: Path) -> list[float]:
    """The loss_epoch column of a scalars.csv, one value per epoch 0, 1, ..."""
    return read_loss_log(path)[1]


def read_loss_log(path: Path) -> tuple[list[float], list[float]]:
    """(wall times, losses) of a scalars.csv, one row per epoch 0, 1, ... The wall times only date the evaluation's
    TensorBoard scalars: one that is missing or not a finite number is 0."""
    path = Path(path)
    text = fileio.read_text(path, "loss file", " (export it with evaluation/export_tensorboard_log.py)")
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as e:
        raise UserError(f"{path}: unreadable CSV ({e})") from None
    if not rows or "loss_epoch" not in rows[0]:
        raise UserError(f"{path}: no loss_epoch column")
    column, step = rows[0].index("loss_epoch"), rows[0].index("step") if "step" in rows[0] else None
    wall = rows[0].index("wall_time") if "wall_time" in rows[0] else None
    losses, wall_times = [], []
    for line_no, row in enumerate(rows[1:], start=2):
        try:
            loss, logged_step = float(row[column]), None if step is None else float(row[step])
        except (IndexError, ValueError):
            raise UserError(f"{path}: line {line_no}: expected numbers in the step and loss_epoch columns") from None
        if not np.isfinite(loss):
            raise UserError(f"{path}: line {line_no}: loss_epoch is {row[column]}, not a finite number")
        if logged_step is not None and logged_step != len(losses):
            raise UserError(f"{path}: line {line_no}: step {row[step]}, expected {len(losses)} "
                            f"(one row per epoch 0, 1, ...)")
        losses.append(loss)
        wall_times.append(wall_time(row[wall]) if wall is not None and wall < len(row) else 0.0)
    if not losses:
        raise UserError(f"{path}: no loss_epoch values")
    return wall_times, losses


def wall_time(text: str) -> float:
    """A wall_time cell as a float, 0 when it is not a finite number."""
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value if np.isfinite(value) else 0.0


def read_f_scores(path: Path) -> np.ndarray:
    """The values of an f_scores.txt: one per line (epoch -1 first), or a JSON list as older tools wrote it."""
    path = Path(path)
    text = fileio.read_text(path, "F-score file", " (compute it with evaluation/compute_fscores.py)").strip()
    try:
        values = text.splitlines() if "\n" in text else json.loads(text)
        f_scores = np.array([float(v) for v in (values if isinstance(values, list) else [values])])
    except (ValueError, TypeError, RecursionError):
        raise UserError(f"{path}: expected one F-score per line") from None
    for line_no, value in enumerate(f_scores, start=1):
        if not 0 <= value <= 100:  # also refuses NaN
            raise UserError(f"{path}: line {line_no}: {value} is not an F-score (0 to 100)")
    return f_scores


def f_score_at(f_scores: np.ndarray, path: Path, epoch: int) -> float:
    """f_scores.txt value of training epoch `epoch` (line epoch + 2, after epoch -1)."""
    if len(f_scores) < epoch + 2:
        raise UserError(f"{path}: {len(f_scores)} values, but epoch {epoch} needs {epoch + 2} (epochs -1 .. {epoch})")
    return f_scores[epoch + 1]


def run_improvement(run: RunFolders, dataset: str, epoch: int) -> float:
    """The improvement of the run's mean score at `epoch` over the untrained model's (evaluation/selection.py)."""
    untrained_path = run.results_dir / f"{dataset}_-1.json"
    trained_path = run.results_dir / f"{dataset}_{epoch}.json"
    untrained, trained = read_scores(untrained_path), read_scores(trained_path)
    missing = [key for key in trained if key not in untrained]
    if missing:
        raise UserError(f"{untrained_path}: no scores for {missing[0]}, which {trained_path.name} has")
    return improvement(mean_score(untrained, trained), mean_score(trained, trained), run.sigma)
