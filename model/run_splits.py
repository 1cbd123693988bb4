"""The paper's protocol for one dataset: 5 splits x sigma 0.5..0.9, one `model/main.py` run each.

Called by run_summe_splits.sh and run_tvsum_splits.sh; every argument it does not know goes to model/main.py (later
arguments win, so `--n_epochs 50` overrides the paper's 400). Checks the dataset and splits files and every run's
arguments before training, and stops at the first run that fails. Runs are started with `--resume`, so running the
script again after an interruption skips the finished runs and continues the interrupted ones (`--overwrite` starts
every run over instead).

Where the runs go:
- by default one after the other on this machine;
- `--jobs N`: N at once on this machine, each with its share of the cores (threads = cores / N);
- `--slurm [--sbatch "OPTIONS"]`: one SLURM job array, a task per run, and an evaluation job that runs once every
  task has succeeded (model/slurm.py); the script returns as soon as both are submitted;
- `--print_grid`: nothing runs; one line per run with its full command, for any other scheduler.
`--seeds S1,S2,...` repeats the grid for each seed, into {exp_dir}/seed{S}/.

The numbers of a run depend on its number of CPU threads (float32 sums are split differently), not on the mode: with
the same `--threads`, every mode writes bit-identical files. Without it, the sequential loop leaves the thread count
to PyTorch (all cores), --jobs N uses cores / N and --slurm 1 per task.

`--demo` generates a small SumMe-shaped dataset in data/demo/, trains every split and sigma on it for a few epochs
into Summaries/demo, then evaluates and selects the models.
"""
import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tqdm import tqdm  # noqa: E402

from model.configs import REPO_ROOT, default_dataset_file, default_splits_file, get_config  # noqa: E402
from model.data_loader import load_splits  # noqa: E402
from model.errors import UserError, run_cli  # noqa: E402

SIGMAS = ("0.5", "0.6", "0.7", "0.8", "0.9")
EVAL_METHOD = {"SumMe": "max", "TVSum": "avg"}
MAIN = REPO_ROOT / "model" / "main.py"
EVALUATE = REPO_ROOT / "evaluation" / "choose_best_model.sh"
DEMO_DIR = REPO_ROOT / "data" / "demo"
DEMO_EPOCHS = 2
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Run:
    """One training run of the grid: where it sits in the grid, its model/main.py arguments, its last checkpoint."""
    seed: Optional[int]
    split: int
    sigma: str
    args: tuple
    last_checkpoint: Path

    @property
    def command(self):
        return [sys.executable, str(MAIN), *self.args]

    @property
    def label(self):
        seed = "" if self.seed is None else f"seed {self.seed}, "
        return f"{seed}split {self.split}, sigma {self.sigma}"

    def finished(self):
        return self.last_checkpoint.is_file()


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


def seed_list(text):
    """'1,2,3' -> [1, 2, 3] (distinct integers), for --seeds."""
    try:
        seeds = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"a seed is repeated in {text!r}")
    return seeds


def positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def split_seed_args(extra):
    """(exp_dir, extra without --exp_dir): with --seeds, each seed's experiment goes to {exp_dir}/seed{S}."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--exp_dir", type=Path, default=REPO_ROOT / "Summaries" / "exp1")
    p.add_argument("--seed", default=None)
    known, rest = p.parse_known_args(extra)
    if known.seed is not None:
        raise UserError("--seed and --seeds exclude each other: give every seed to --seeds")
    return known.exp_dir, rest


def grid(video_type, batch_size, n_epochs, n_splits, extra, seeds=None):
    """Every Run, seed by seed, then split by split, then sigma; each run's arguments are checked as model/main.py
    checks them (the device is not: cluster nodes may have GPUs that this machine lacks)."""
    extra = extra if "--overwrite" in extra else ["--resume"] + extra
    if seeds is None:
        per_seed = [(None, extra)]
    else:
        exp_dir, rest = split_seed_args(extra)
        per_seed = [(seed, rest + ["--seed", str(seed), "--exp_dir", str(exp_dir / f"seed{seed}")]) for seed in seeds]
    runs = []
    for seed, seed_extra in per_seed:
        for split in range(n_splits):
            for sigma in SIGMAS:
                args = ["--split_index", str(split), "--video_type", video_type, "--reg_factor", sigma,
                        "--n_epochs", str(n_epochs), "--batch_size", str(batch_size)] + seed_extra
                config = get_config(args + ["--device", "cpu"])
                runs.append(Run(seed, split, sigma, tuple(args),
                                config.save_dir / f"last_epoch{config.n_epochs - 1}.pt"))
    return runs


def cpu_count():
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def thread_env(threads):
    """The environment of the runs: OMP_NUM_THREADS (which sets PyTorch's and MKL's threads) when `threads` is set."""
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return env


def command_line(run, threads=None):
    """The shell command of a run, as --print_grid prints it."""
    prefix = "" if threads is None else f"OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
    return prefix + shlex.join(run.command)


def print_lines(lines):
    """Print to stdout; a reader that stops early (`| head`) is not an error."""
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def evaluation_command(exp_dir, video_type, dataset_file, anno=None):
    """evaluation/choose_best_model.sh on the experiment, with the grid's dataset file."""
    command = ["sh", str(EVALUATE), str(exp_dir), video_type, EVAL_METHOD.get(video_type, "max"),
               "--dataset_file", str(dataset_file)]
    return command + (["--anno", str(anno)] if anno is not None else [])


def run_sequential(runs, env):
    """Train the runs one after the other, each printing to the terminal; stop at the first failure."""
    for run in runs:
        print(f"== {run.label}", flush=True)
        status = subprocess.call(run.command, env=env)
        if status != 0:
            raise UserError(f"training {run.label} failed (exit status {status}); stopping")


def stop(running):
    """Terminate the running runs, wait for them, and forget them."""
    for _, process, log, _ in running:
        process.terminate()
        process.wait()
        log.close()
    running.clear()


def run_parallel(runs, jobs, env):
    """Train `jobs` runs at a time; print each run's output when it ends. At the first failure no other run starts
    and the running ones are stopped (their resume state lets the next start continue them)."""
    pending, running, failed = list(reversed(runs)), [], None
    with tqdm(total=len(runs), desc="Runs", unit="run", ncols=80, disable=None) as progress:
        try:
            while running or (pending and failed is None):
                while pending and failed is None and len(running) < jobs:
                    run, log = pending.pop(), tempfile.TemporaryFile(mode="w+")
                    process = subprocess.Popen(run.command, stdout=log, stderr=subprocess.STDOUT, env=env)
                    running.append((run, process, log, time.monotonic()))
                time.sleep(POLL_SECONDS)
                for item in [item for item in running if item[1].poll() is not None]:
                    running.remove(item)
                    run, process, log, start = item
                    log.seek(0)
                    output = log.read().rstrip("\n")
                    log.close()
                    status = process.returncode
                    result = "done" if status == 0 else f"failed (exit status {status})"
                    tqdm.write(f"== {run.label}: {result} in {time.monotonic() - start:.1f} s" +
                               (f"\n{output}" if output else ""))
                    progress.update()
                    if status != 0 and failed is None:
                        failed = (run, status)
                if failed is not None:
                    for run, _, _, _ in running:
                        tqdm.write(f"== {run.label}: stopped (the next start continues it)")
                    stop(running)
        finally:
            stop(running)
    if failed is not None:
        raise UserError(f"training {failed[0].label} failed (exit status {failed[1]}); stopping")


def make_demo_data():
    from data.make_dataset import main as make_dataset
    if not (DEMO_DIR / "demo_dataset.h5").is_file() or not (DEMO_DIR / "demo_splits.json").is_file():
        make_dataset(["--out", str(DEMO_DIR)])
    return ["--dataset_file", str(DEMO_DIR / "demo_dataset.h5"), "--splits_file", str(DEMO_DIR / "demo_splits.json"),
            "--exp_dir", str(REPO_ROOT / "Summaries" / "demo")]


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False,
                                epilog="Any other argument is passed to model/main.py.")
    p.add_argument("--video_type", required=True, choices=("SumMe", "TVSum"))
    p.add_argument("--batch_size", type=int, required=True, help="the paper's: 20 for SumMe, 40 for TVSum")
    p.add_argument("--n_epochs", type=int, default=None, help=f"default: 400, or {DEMO_EPOCHS} with --demo")
    p.add_argument("--demo", action="store_true", help="train and evaluate on a small generated SumMe-shaped dataset")
    p.add_argument("--seeds", type=seed_list, default=None,
                   help="comma-separated seeds: the grid once per seed, seed S into {exp_dir}/seed{S}/")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--jobs", type=positive, default=1, help="runs at once on this machine (default: 1)")
    mode.add_argument("--slurm", action="store_true",
                      help="submit the grid as a SLURM job array and a dependent evaluation job, then return")
    mode.add_argument("--print_grid", action="store_true", help="print every run's command, one per line; run nothing")
    p.add_argument("--threads", type=positive, default=None,
                   help="CPU threads per run (default: PyTorch's choice when sequential, cores / N with --jobs N, "
                        "1 per task with --slurm); runs with the same threads give bit-identical files")
    p.add_argument("--sbatch", default="", metavar="OPTIONS",
                   help='with --slurm: options for both sbatch calls, e.g. --sbatch="--partition=gpu --time=4:00:00"')
    p.add_argument("--anno", type=Path, default=None,
                   help="TVSum annotations for the evaluation (with --slurm and --demo; default: data/TVSum/...)")
    return p


def interrupt(signum, frame):
    """SIGTERM (a scheduler or `kill` stopping the runner) stops the runs too, as Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv=None):
    p = build_parser()
    args, extra = p.parse_known_args(argv)
    if args.sbatch and not args.slurm:
        p.error("--sbatch goes with --slurm")
    n_epochs = args.n_epochs or (DEMO_EPOCHS if args.demo else 400)
    if args.demo:
        if args.video_type != "SumMe":
            raise UserError("--demo generates a SumMe-shaped dataset: run it with run_summe_splits.sh")
        extra = make_demo_data() + extra
    dataset_file, splits_file, exp_dir = passthrough_paths(extra, args.video_type)
    n_splits = check_inputs(dataset_file, splits_file)
    runs = grid(args.video_type, args.batch_size, n_epochs, n_splits, extra, args.seeds)
    evaluation = evaluation_command(exp_dir, args.video_type, dataset_file, args.anno)

    if args.print_grid:
        print_lines(command_line(run, args.threads) for run in runs)
        return 0
    todo = runs if "--overwrite" in extra else [run for run in runs if not run.finished()]
    seeds = f"{len(args.seeds)} seed{'s' * (len(args.seeds) > 1)} x " if args.seeds else ""
    print(f"{len(runs)} runs ({seeds}{n_splits} splits x {len(SIGMAS)} sigmas): "
          f"{len(runs) - len(todo)} already finished, {len(todo)} to train", flush=True)
    if args.slurm:
        from model.slurm import submit
        submit(runs, todo, exp_dir, evaluation, args.threads or 1, shlex.split(args.sbatch), args.video_type)
        return 0
    threads = args.threads or (max(1, cpu_count() // args.jobs) if args.jobs > 1 else None)
    jobs = min(args.jobs, len(todo))
    if jobs > 1:
        print(f"{jobs} runs at once, {threads} thread{'s' * (threads > 1)} each", flush=True)
        run_parallel(todo, jobs, thread_env(threads))
    else:
        run_sequential(todo, thread_env(threads))
    if args.demo:
        return subprocess.call(evaluation)
    print(f"all runs finished; evaluate them with: {shlex.join(evaluation)}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, interrupt)
    sys.exit(run_cli(main))
