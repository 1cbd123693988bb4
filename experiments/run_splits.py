"""The paper's protocol for one dataset: every split of the splits file x sigma 0.5..0.9, one `model/main.py` run
each, then the evaluation (called by run_summe_splits.sh and run_tvsum_splits.sh).

Every argument this script does not know goes to model/main.py (later arguments win, so `--n_epochs 50` overrides
the paper's 400). The dataset and splits files and every run's arguments are checked before anything trains, and
the first run that fails stops the grid. Runs are started with `--resume`: running the script again after an
interruption skips the finished runs and continues the interrupted ones (`--overwrite` starts every run over).

Where the runs go: by default one after the other on this machine; `--jobs N`: N at once, each with cores / N
threads; `--slurm [--sbatch="OPTIONS"]`: a SLURM job array with a task per run and an evaluation job after it
(experiments/slurm.py), the script returning once both are submitted; `--print_grid`: nothing runs, one line per run.
`--seeds S1,S2,...` repeats the grid for each seed, into {exp_dir}/seed{S}/.

The numbers of a run depend on its number of CPU threads (float32 sums are split differently), not on the mode: with
the same `--threads`, every mode writes bit-identical files (docs/cluster.md).

`--demo` generates a small dataset of the script's dataset's shape in data/demo/, trains its grid into
Summaries/demo/ with enough epochs for the model selection to work as in the paper, and evaluates it.
"""
import argparse
import shlex
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.cli import description, positive
from common.datasets import DATASET_NAMES, DATASETS, SIGMAS
from common.errors import run_cli
from experiments import demo
from experiments.grid import check_inputs, check_lengths, command_line, evaluation_command, grid, passthrough_paths
from experiments.local import cpu_count, run_parallel, run_sequential, thread_env

PAPER_EPOCHS = 400
INTERRUPTED = "interrupted: run the same command again to continue (finished runs are skipped)"


def seed_list(text: str) -> list[int]:
    """'1,2,3' -> [1, 2, 3] (distinct integers), for --seeds."""
    try:
        seeds = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"a seed is repeated in {text!r}")
    return seeds


def print_lines(lines) -> None:
    """Print to stdout, flushed (a reader that stops early is handled by run_cli)."""
    print("\n".join(lines), flush=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python experiments/run_splits.py", description=description(__doc__),
                                allow_abbrev=False, epilog="Any other argument is passed to model/main.py.")
    p.add_argument("--video_type", required=True, choices=DATASET_NAMES)
    p.add_argument("--batch_size", type=int, default=None, help="default: the paper's, 20 for SumMe, 40 for TVSum")
    p.add_argument("--n_epochs", type=int, default=None, help=f"default: {PAPER_EPOCHS}, or {demo.EPOCHS} with --demo")
    p.add_argument("--demo", action="store_true", help="train and evaluate on a small generated dataset")
    p.add_argument("--seeds", type=seed_list, default=None,
                   help="comma-separated seeds: the grid once per seed, seed S into {exp_dir}/seed{S}/")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--jobs", type=positive, default=1, help="runs at once on this machine (default: 1)")
    mode.add_argument("--slurm", action="store_true",
                      help="submit the grid as a SLURM job array and a dependent evaluation job, then return")
    mode.add_argument("--print_grid", action="store_true", help="print every run's command, one per line; run nothing")
    p.add_argument("--nproc", type=positive, default=1,
                   help="processes per run: with N > 1 each run is `torchrun --standalone --nproc_per_node N "
                        "model/main.py ...`, data-parallel (docs/distributed.md; default: 1)")
    p.add_argument("--threads", type=positive, default=None,
                   help="CPU threads per run (default: PyTorch's choice when sequential, cores / N with --jobs N, "
                        "1 per task with --slurm); runs with the same threads give bit-identical files")
    p.add_argument("--sbatch", default="", metavar="OPTIONS",
                   help='with --slurm: options for both sbatch calls, e.g. --sbatch="--partition=gpu --time=4:00:00"')
    p.add_argument("--anno", type=Path, default=None,
                   help="TVSum annotations for the evaluation (default: data/TVSum/ydata-anno.tsv or .rar)")
    return p


def interrupt(signum, frame):
    """SIGTERM (a scheduler or `kill` stopping the runner) stops the runs too, as Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args, extra = p.parse_known_args(argv)
    if args.sbatch and not args.slurm:
        p.error("--sbatch goes with --slurm")
    dataset = DATASETS[args.video_type]
    n_epochs = args.n_epochs or (demo.EPOCHS if args.demo else PAPER_EPOCHS)
    batch_size = args.batch_size or dataset.batch_size
    anno = args.anno
    if args.demo:
        demo_args, demo_anno, batch_size = demo.prepare(args.video_type, batch_size)
        extra = demo_args + extra
        anno = anno or demo_anno
    dataset_file, splits_file, exp_dir = passthrough_paths(extra, args.video_type)
    n_splits = check_inputs(dataset_file, splits_file)
    runs = grid(args.video_type, batch_size, n_epochs, n_splits, extra, args.seeds, nproc=args.nproc)
    overwrite = "--overwrite" in extra
    check_lengths(runs, overwrite)
    evaluation = evaluation_command(exp_dir, args.video_type, dataset.eval_method, dataset_file, splits_file, anno)

    if args.print_grid:
        print_lines(command_line(run, args.threads) for run in runs)
        return 0
    todo = runs if overwrite else [run for run in runs if run.state != "finished"]
    seeds = f"{len(args.seeds)} seed{'s' * (len(args.seeds) > 1)} x " if args.seeds else ""
    print(f"{len(runs)} runs ({seeds}{n_splits} split{'s' * (n_splits > 1)} x {len(SIGMAS)} sigmas, {n_epochs} "
          f"epochs each): "
          f"{len(runs) - len(todo)} already finished, {len(todo)} to train", flush=True)
    if args.slurm:
        from experiments.slurm import submit
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
        status = subprocess.call(evaluation)
        if status == 0:
            print(demo.epilogue(exp_dir, args.video_type, demo_args, evaluation))
        return status
    print(f"all runs finished; evaluate them with: {shlex.join(evaluation)}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, interrupt)
    sys.exit(run_cli(main, INTERRUPTED))
