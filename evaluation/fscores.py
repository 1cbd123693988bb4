"""The F-score of every epoch of a run: the mean over the videos of each score file of its summary's F-score
(docs/method.md, "Evaluation"). The h5 is read once and all the epochs of a video are summarised together."""
from pathlib import Path

import numpy as np

from common import fileio
from evaluation.eval_data import EvalDataset, EvalVideo, check_length, epoch_files, read_scores
from evaluation.protocol import output_name


def video_f_scores(video: EvalVideo, scores: np.ndarray, eval_method: str) -> np.ndarray:
    """F-score of the summary of each score vector in `scores` [B, n_scores] of one EvalVideo."""
    return video.scorer.f_scores(video.shots.select(scores), eval_method)


def epoch_f_scores(files: list[tuple[int, Path]], data: EvalDataset, eval_method: str) -> list[float]:
    """Mean F-score over the videos of each score file in `files` [(epoch, path), ...], in that order."""
    runs = [(path, read_scores(path)) for _, path in files]
    rows = {}  # video -> [(file index, scores), ...]
    for index, (path, scores) in enumerate(runs):
        for key, vector in scores.items():
            video = data.video(key, path)
            check_length(path, key, vector, video, data.path)
            rows.setdefault(key, []).append((index, vector))
    f_by_file = [{} for _ in runs]
    for key, entries in rows.items():
        f = video_f_scores(data.videos[key], np.stack([vector for _, vector in entries]), eval_method)
        for (index, _), value in zip(entries, f.tolist()):
            f_by_file[index][key] = value
    return [float(np.mean([f_by_file[index][key] for key in scores])) for index, (_, scores) in enumerate(runs)]


def f_scores_path(results_dir: Path, dataset: str, eval_method: str) -> Path:
    """{results_dir}/f_scores.txt, or f_scores.{eval_method}.txt for another reduction than the paper's
    (evaluation/protocol.py)."""
    return Path(results_dir) / output_name("f_scores.txt", dataset, eval_method)


def compute_fscores(results_dir: Path, dataset: str, eval_method: str, data: EvalDataset) -> list[tuple[int, float]]:
    """Write the run's f_scores_path for its {dataset}_{epoch}.json files; return [(epoch, f), ...]."""
    files = epoch_files(results_dir, dataset)
    values = epoch_f_scores(files, data, eval_method)
    fileio.write_text(f_scores_path(results_dir, dataset, eval_method), "".join(f"{value!r}\n" for value in values))
    return [(epoch, value) for (epoch, _), value in zip(files, values)]
