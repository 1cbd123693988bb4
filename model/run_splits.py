"""The paper's protocol for one dataset: 5 splits x sigma 0.5..0.9, one `model/main.py` run each.

Called by run_summe_splits.sh and run_tvsum_splits.sh; every argument it does not know goes to model/main.py (later
arguments win, so `--n_epochs 50` overrides the paper's 400). Checks the dataset and splits files before training,
and stops at the first run that fails, with that run's exit status. Runs are started with `--resume`, so running the
script again after an interruption skips the finished runs and continues the interrupted one (`--overwrite` starts
every run over instead).

`--demo` generates a small SumMe-shaped dataset in data/demo/, trains every split and sigma on it for a few epochs
into Summaries/demo, then evaluates and selects the models.
"""
import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.configs import REPO_ROOT, default_dataset_file, default_splits_file  # noqa: E402
from model.data_loader import load_splits  # noqa: E402
from model.errors import UserError, run_cli  # noqa: E402

SIGMAS = ("0.5", "0.6", "0.7", "0.8", "0.9")
EVAL_METHOD = {"SumMe": "max", "TVSum": "avg"}
DEMO_DIR = REPO_ROOT / "data" / "demo"
DEMO_EPOCHS = 2


def passthrough_paths(args, video_type):
    """(dataset_file, splits_file, exp_dir) as model/main.py will see them in the pass-through `args`."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--dataset_file", type=Path, default=default_dataset_file(video_type))
    p.add_argument("--splits_file", type=Path, default=default_splits_file(video_type))
    p.add_argument("--exp_dir", type=Path, default=REPO_ROOT / "Summaries" / "exp1")
    known, _ = p.parse_known_args(args)
    return known.dataset_file, known.splits_file, known.exp_dir


def check_inputs(dataset_file, splits_file):
    """Fail at once, naming the file and where to get it, when the dataset or the splits are missing."""
    for path, what in ((dataset_file, "dataset file"), (splits_file, "splits file")):
        if not Path(path).is_file():
            raise UserError(f"{path}: {what} not found. Get the paper's data with `python data/download.py datasets` "
                            f"(see data/README.md), pass --dataset_file/--splits_file, or try `--demo`")
    return len(load_splits(splits_file))


def grid(video_type, batch_size, n_epochs, n_splits, extra):
    """The (split, sigma, command) of every run, split by split."""
    main = [sys.executable, str(REPO_ROOT / "model" / "main.py")]
    extra = extra if "--overwrite" in extra else ["--resume"] + extra
    for split in range(n_splits):
        for sigma in SIGMAS:
            yield split, sigma, main + ["--split_index", str(split), "--video_type", video_type, "--reg_factor", sigma,
                                        "--n_epochs", str(n_epochs), "--batch_size", str(batch_size)] + extra


def make_demo_data():
    from data.make_dataset import main as make_dataset
    if not (DEMO_DIR / "demo_dataset.h5").is_file() or not (DEMO_DIR / "demo_splits.json").is_file():
        make_dataset(["--out", str(DEMO_DIR)])
    return ["--dataset_file", str(DEMO_DIR / "demo_dataset.h5"), "--splits_file", str(DEMO_DIR / "demo_splits.json"),
            "--exp_dir", str(REPO_ROOT / "Summaries" / "demo")]


def evaluate(exp_dir, video_type, dataset_file):
    script = REPO_ROOT / "evaluation" / "choose_best_model.sh"
    cmd = ["bash", str(script), str(exp_dir), video_type, EVAL_METHOD.get(video_type, "max"),
           "--dataset_file", str(dataset_file)]
    return subprocess.call(cmd)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False,
                                epilog="Any other argument is passed to model/main.py.")
    p.add_argument("--video_type", required=True, choices=("SumMe", "TVSum"))
    p.add_argument("--batch_size", type=int, required=True, help="the paper's: 20 for SumMe, 40 for TVSum")
    p.add_argument("--n_epochs", type=int, default=None, help=f"default: 400, or {DEMO_EPOCHS} with --demo")
    p.add_argument("--demo", action="store_true", help="train and evaluate on a small generated SumMe-shaped dataset")
    args, extra = p.parse_known_args(argv)
    n_epochs = args.n_epochs or (DEMO_EPOCHS if args.demo else 400)
    if args.demo:
        if args.video_type != "SumMe":
            raise UserError("--demo generates a SumMe-shaped dataset: run it with run_summe_splits.sh")
        extra = make_demo_data() + extra
    dataset_file, splits_file, exp_dir = passthrough_paths(extra, args.video_type)
    n_splits = check_inputs(dataset_file, splits_file)
    for split, sigma, cmd in grid(args.video_type, args.batch_size, n_epochs, n_splits, extra):
        print(f"== split {split}, sigma {sigma}", flush=True)
        status = subprocess.call(cmd)
        if status != 0:
            raise UserError(f"training split {split} with sigma {sigma} failed (exit status {status}); stopping")
    if args.demo:
        return evaluate(exp_dir, args.video_type, dataset_file)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
