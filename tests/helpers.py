"""The helpers every test module shares: running the command-line scripts (as a process, or in this process as the
script would), and building their inputs (h5 files in the dataset layout, the TensorBoard events and score files of
a run)."""
import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from common.errors import run_cli
from common.tblog import ScalarLog

REPO = Path(__file__).resolve().parent.parent


def run_script(script: str, *args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python {script} args...` from `cwd` (default: a neutral folder) and return the CompletedProcess."""
    return subprocess.run([sys.executable, str(REPO / script), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or REPO.parent)


def run_main(main: Callable, *argv) -> subprocess.CompletedProcess:
    """main(argv) in this process as its script runs it (inside run_cli), with the output captured: fast, and the
    same exit status and messages as run_script."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run_cli(lambda: main([str(a) for a in argv]))
            status = 0
        except SystemExit as e:
            status = e.code
    return subprocess.CompletedProcess([str(a) for a in argv], status, out.getvalue(), err.getvalue())


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """A one-line `error:` message containing every fragment, exit status 2, and no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    message = result.stderr.strip().splitlines()[-1]
    for fragment in fragments:
        assert fragment in message, message


def write_h5(path: Path, videos: dict[str, dict[str, np.ndarray]]) -> Path:
    """Write {video_key: {dataset_name: array}} as an h5 file in the dataset layout."""
    with h5py.File(path, "w") as h5:
        for key, fields in videos.items():
            group = h5.create_group(key)
            for name, value in fields.items():
                group[name] = value
    return path


def tiny_video(T: int = 20, D: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """The fields of one small valid video with T sampled frames of width D."""
    rng = np.random.default_rng(seed)
    n_frames = 15 * T
    return {"features": rng.random((T, D), dtype=np.float32),
            "picks": np.arange(0, n_frames, 15), "n_frames": n_frames, "n_steps": T,
            "change_points": np.array([[0, n_frames // 2 - 1], [n_frames // 2, n_frames - 1]]),
            "n_frame_per_seg": np.array([n_frames // 2, n_frames - n_frames // 2]),
            "user_summary": (rng.random((3, n_frames)) < 0.2).astype(np.float32),
            "gtscore": rng.random(T).astype(np.float32)}


def write_events(log_dir: Path, losses, tag: str = "loss_epoch") -> Path:
    """A run's TensorBoard events: scalar `tag` = losses[e] at step e, as training logs it."""
    with ScalarLog(log_dir) as log:
        for step, loss in enumerate(losses):
            log.add(tag, loss, step)
    return Path(log_dir)


def write_score_files(results: Path, dataset: str, scores: dict[int, dict[str, list[float]]]) -> Path:
    """A run's score files {dataset}_{epoch}.json, {epoch: {video: [score, ...]}}, as training writes them."""
    results.mkdir(parents=True, exist_ok=True)
    for epoch, by_video in scores.items():
        (results / f"{dataset}_{epoch}.json").write_text(json.dumps(by_video))
    return Path(results)


def report_table(stdout: str) -> dict[str, dict[str, str]]:
    """The table choose_best_model prints next to the baselines: {split or "mean": {column: printed value}}."""
    lines = stdout[stdout.index("Next to the baselines"):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:3] == ["split", "\u03c3", "epoch"])
    header = [name.strip() for name in ["split", "\u03c3", "epoch"] +
              [lines[start][k:k + 11] for k in range(16, len(lines[start]), 11)]]
    rows = {}
    for line in lines[start + 1:]:
        if not line.strip() or line.startswith("wrote "):
            break
        cells = [line[:5], line[6:10], line[11:16]] + [line[k:k + 11] for k in range(16, len(line), 11)]
        rows[cells[0].strip()] = dict(zip(header, (cell.strip() for cell in cells)))
    return rows
