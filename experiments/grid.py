"""The grid of one dataset's training runs: every split of the splits file x every sigma (x every seed), each one
`python model/main.py` command, checked up front as model/main.py checks its arguments."""
import argparse
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from common.datasets import DATASETS, SIGMAS
from common.errors import UserError
from common.h5data import open_h5
from common.paths import DEFAULT_EXP_DIR, REPO_ROOT, default_dataset_file, default_splits_file
from common.splits import load_splits

MAIN = REPO_ROOT / "model" / "main.py"
EVALUATE = REPO_ROOT / "evaluation" / "choose_best_model.sh"
MRHISUM_SELECTION = REPO_ROOT / "experiments" / "mrhisum_selection.py"


@dataclass(frozen=True)
class Run:
    """One training run of the grid: where it sits in the grid, its model/main.py arguments, its state ('new',
    'interrupted', 'finished' or 'finished-other', as model/main.py sees its folders), and its processes (more than
    one: started by torchrun, docs/distributed.md)."""
    seed: int | None
    split: int
    sigma: float
    args: tuple
    state: str
    nproc: int = 1

    @property
    def command(self) -> list[str]:
        launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={self.nproc}"] \
            if self.nproc > 1 else []
        return [sys.executable, *launcher, str(MAIN), *self.args]

    @property
    def label(self) -> str:
        seed = "" if self.seed is None else f"seed {self.seed}, "
        return f"{seed}split {self.split}, sigma {self.sigma}"


def passthrough_paths(args: list[str], video_type: str) -> tuple[Path, Path, Path]:
    """(dataset_file, splits_file, exp_dir) as model/main.py will see them in the pass-through `args`."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--dataset_file", type=Path, default=default_dataset_file(video_type))
    p.add_argument("--splits_file", type=Path, default=default_splits_file(video_type))
    p.add_argument("--exp_dir", type=Path, default=DEFAULT_EXP_DIR)
    known, _ = p.parse_known_args(args)
    return known.dataset_file, known.splits_file, known.exp_dir


def check_inputs(dataset_file: Path, splits_file: Path) -> int:
    """The number of splits; fail at once, naming the file and where to get it (common/hints.py), when an input is
    missing or unreadable."""
    open_h5(dataset_file).close()
    return len(load_splits(splits_file))


def split_seed_args(extra: list[str]) -> tuple[Path, list[str]]:
    """(exp_dir, extra without --exp_dir): with --seeds, each seed's experiment goes to {exp_dir}/seed{S}."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--exp_dir", type=Path, default=DEFAULT_EXP_DIR)
    p.add_argument("--seed", default=None)
    known, rest = p.parse_known_args(extra)
    if known.seed is not None:
        raise UserError("--seed and --seeds exclude each other: give every seed to --seeds")
    return known.exp_dir, rest


def grid(video_type: str, batch_size: int, n_epochs: int, n_splits: int, extra: list[str],
         seeds: list[int] | None = None, sigmas: tuple[float, ...] = SIGMAS, nproc: int = 1) -> list[Run]:
    """Every Run, seed by seed, then split by split, then sigma; each run's arguments are checked as model/main.py
    checks them (the device is not: cluster nodes may have GPUs that this machine lacks)."""
    # PyTorch takes seconds to import: the split scripts check their inputs (check_inputs) before it loads
    from model.configs import get_config
    from model.trainer import run_state

    extra = extra if "--overwrite" in extra else ["--resume"] + extra
    if seeds is None:
        per_seed = [(None, extra)]
    else:
        exp_dir, rest = split_seed_args(extra)
        per_seed = [(seed, rest + ["--seed", str(seed), "--exp_dir", str(exp_dir / f"seed{seed}")]) for seed in seeds]
    runs = []
    for seed, seed_extra in per_seed:
        for split in range(n_splits):
            for sigma in sigmas:
                args = ["--split_index", str(split), "--video_type", video_type, "--reg_factor", str(sigma),
                        "--n_epochs", str(n_epochs), "--batch_size", str(batch_size)] + seed_extra
                config = get_config(args + ["--device", "cpu"])
                runs.append(Run(seed, split, sigma, tuple(args), run_state(config), nproc))
    return runs


def check_lengths(runs: list[Run], overwrite: bool) -> None:
    """Refuse up front, before anything trains, a grid whose folders hold finished runs of another --n_epochs."""
    other = [run for run in runs if run.state == "finished-other"]
    if other and not overwrite:
        raise UserError(f"{len(other)} of the {len(runs)} runs ({other[0].label}, ...) are already finished with "
                        f"another --n_epochs than this grid's; use another --exp_dir, or --overwrite to train them "
                        f"again")


def command_line(run: Run, threads: int | None = None) -> str:
    """The shell command of a run, as --print_grid prints it."""
    prefix = "" if threads is None else f"OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
    return prefix + shlex.join(run.command)


def evaluation_command(exp_dir: Path, video_type: str, eval_method: str, dataset_file: Path, splits_file: Path,
                       anno: Path | None = None) -> list[str]:
    """The evaluation of the experiment, with the grid's dataset and splits files: evaluation/choose_best_model.sh,
    or for Mr.HiSum its model selection scored on the test videos (experiments/mrhisum_selection.py)."""
    if DATASETS[video_type].mrhisum:
        return [sys.executable, str(MRHISUM_SELECTION), str(exp_dir), "--dataset_file", str(dataset_file),
                "--splits_file", str(splits_file)]
    command = ["bash", str(EVALUATE), str(exp_dir), video_type, eval_method, "--dataset_file", str(dataset_file),
               "--splits_file", str(splits_file)]
    return command + (["--anno", str(anno)] if anno is not None else [])
