"""A tiny training grid (10 small videos, 32-d features, 3 splits, 2 epochs) and its reference runs by the sequential
loop, trained once per test session and shared by test_grid.py and test_slurm.py."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from data.make_dataset import make_dataset, make_splits
from evaluation.scalars import read_loss_events

REPO = Path(__file__).resolve().parent.parent
FRAMES = [900, 1200, 600, 1500, 750, 1050, 1350, 450, 1650, 800]
SEEDS = (12345, 7)  # 12345: the default seed
_references = {}


def grid_args(data):
    """The arguments of the tiny grid for run_summe_splits.sh (after the script's own --batch_size 20)."""
    return ["--dataset_file", str(data / "tiny.h5"), "--splits_file", str(data / "tiny_splits.json"),
            "--input_size", "32", "--n_epochs", "2", "--batch_size", "4", "--device", "cpu"]


def run_grid(*args, env=None, **kwargs):
    """Start `bash run_summe_splits.sh args...` (a Popen with text output; kwargs go to Popen)."""
    command = ["bash", str(REPO / "run_summe_splits.sh"), *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(env or os.environ, PYTHON=sys.executable), **kwargs)


def finish(process):
    out, err = process.communicate()
    assert process.returncode == 0, err
    return out


def evaluate(exp_dir, data, env=None):
    """The stdout of evaluation/choose_best_model.sh on `exp_dir`, with the experiment's path made neutral."""
    done = subprocess.run(["bash", str(REPO / "evaluation" / "choose_best_model.sh"), str(exp_dir), "SumMe", "max",
                           "--dataset_file", str(data / "tiny.h5"), "--splits_file", str(data / "tiny_splits.json"),
                           "--workers", "1"], capture_output=True, text=True,
                          env=dict(env or os.environ, PYTHON=sys.executable))
    assert done.returncode == 0, done.stderr
    return neutral(done.stdout, exp_dir)


def neutral(text, exp_dir):
    return text.replace(str(exp_dir), "EXP")


def training_outputs(exp_dir):
    """{path: bytes} of every score file and checkpoint under `exp_dir`, and {log folder: [(step, loss)]}."""
    exp_dir = Path(exp_dir)
    files = {str(p.relative_to(exp_dir)): p.read_bytes() for p in sorted(exp_dir.rglob("*"))
             if p.is_file() and p.parent.parent.name in ("results", "models") and p.name != "f_scores.txt"}
    losses = {str(d.relative_to(exp_dir)): [(step, loss) for _, step, loss in read_loss_events(d)]
              for d in sorted(exp_dir.glob("**/logs/split*"))}
    return files, losses


def evaluation_outputs(exp_dir):
    """{path: bytes} of every f_scores.txt and report, and {scalars.csv: its rows without the wall time}."""
    exp_dir = Path(exp_dir)
    files = {str(p.relative_to(exp_dir)): p.read_bytes() for p in sorted(exp_dir.rglob("*"))
             if p.name == "f_scores.txt" or p.name.endswith("_best_models.json")}
    scalars = {str(p.relative_to(exp_dir)): [line.split(",")[1:] for line in p.read_text().splitlines()]
               for p in sorted(exp_dir.rglob("scalars.csv"))}
    return files, scalars


def remove_run(exp_dir, sigma, split):
    """Delete every output of one run, as if it had never started."""
    for part in ("logs", "results", "models"):
        shutil.rmtree(Path(exp_dir) / f"reg{sigma}" / "SumMe" / part / f"split{split}")


def tiny_dataset(tmp_path_factory):
    """The folder of the tiny dataset (tiny.h5, tiny_splits.json: 3 splits of 8 training and 2 test videos)."""
    if "data" not in _references:
        data = tmp_path_factory.mktemp("data")
        keys = [f"video_{i}" for i in range(1, len(FRAMES) + 1)]
        make_dataset(data / "tiny.h5", FRAMES, input_size=32, seed=1)
        (data / "tiny_splits.json").write_text(json.dumps(make_splits(keys, n_splits=3, seed=1)))
        _references["data"] = data
    return _references["data"]


def references(tmp_path_factory):
    """The tiny dataset and the grid trained by the sequential loop with one thread per run, for the default seed
    (`plain`: a plain experiment) and for seed 7 (`seeds`: {exp}/seed7 from `--seeds 7`), both loops at once (one
    core each); `trained` keeps copies before the evaluation, which adds f_scores.txt, scalars.csv and the report.
    Built on first use, once per session."""
    if "plain" not in _references:
        data, root = tiny_dataset(tmp_path_factory), tmp_path_factory.mktemp("grid")
        plain, seeds = root / "plain", root / "seeds"
        loops = [run_grid(*grid_args(data), "--exp_dir", plain, "--threads", "1"),
                 run_grid(*grid_args(data), "--exp_dir", seeds, "--seeds", "7", "--threads", "1")]
        plain_out, seeds_out = map(finish, loops)
        shutil.copytree(plain, root / "trained" / "plain")
        shutil.copytree(seeds / "seed7", root / "trained" / "seed7")
        _references.update(plain=plain, seeds=seeds, plain_out=plain_out, seeds_out=seeds_out,
                           trained=root / "trained", outputs=training_outputs(plain),
                           seed7_outputs=training_outputs(seeds / "seed7"), table=evaluate(plain, data),
                           evaluated=evaluation_outputs(plain))
    return SimpleNamespace(**_references)
