"""Train CA-SUM on one split for one sigma (docs/method.md, "Training"):

    python model/main.py --split_index 0 --video_type SumMe --reg_factor 0.6
    torchrun --nproc_per_node 2 model/main.py --video_type MrHiSum ...     (docs/distributed.md)

SumMe and TVSum train as the authors' code does, videos in memory (model/solver.py); Mr.HiSum, and any run started
by torchrun, stream the videos from the file and share them among the processes (model/stream_solver.py).
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.degenerate import flat_dataset_warning, random_dataset_warning
from common.errors import UserError, run_cli, warn
from model.configs import get_config

INTERRUPTED = ("interrupted: run the same command with --resume to continue from the last saved epoch (from the "
               "start when none was saved yet)")
# Set by the split scripts for the runs they start: their own line says how to continue the whole grid.
QUIET_INTERRUPT = "CA_SUM_GRID"


def main(argv: list[str] | None = None) -> int:
    config = get_config(argv)  # before the imports of torch and the training code: mistakes are reported at once
    from model import distributed
    from model.data_loader import VideoData
    from model.device import numerics
    from model.solver import Solver
    from model.stream_solver import StreamSolver
    from model.trainer import run_state

    group, config.device = distributed.local(config.device)
    try:
        state = run_state(config)
        if state == "finished" and not config.overwrite:
            if group.main:
                print(f"{config.run_label}: already finished, nothing to do (--overwrite to train again)")
            return 0
        if state == "finished-other" and not config.overwrite:
            raise UserError(f"{config.save_dir}: holds a finished run of another length than --n_epochs "
                            f"{config.n_epochs}; use another --exp_dir, or --overwrite to replace it")
        if state == "interrupted" and not (config.resume or config.overwrite):
            raise UserError(f"{config.run_label}: an unfinished run is there; continue it with --resume or start "
                            f"over with --overwrite")
        warnings = [random_dataset_warning(config.dataset_file)]
        with numerics(config.device, config.tf32):
            if config.dataset.mrhisum or distributed.under_torchrun():
                solver = StreamSolver(config, group)  # its reader processes start now, before CUDA and the group
            else:
                train_data = VideoData(config.dataset_file, config.split["train_keys"], config.input_size,
                                       config.splits_file)
                test_data = VideoData(config.dataset_file, config.split["test_keys"], config.input_size,
                                      config.splits_file)
                warnings.append(flat_dataset_warning(train_data.features + test_data.features, config.dataset_file))
                solver = Solver(config, train_data, test_data)
            for message in filter(None, warnings if group.main else ()):
                warn(message)
            distributed.connect(config.device)
            if group.main:
                processes = f" on {group.world} processes" if group.world > 1 else ""
                print(f"[Current split: {config.split_index}]: block_size={config.block_size} and "
                      f"\u03c3={config.reg_factor} for {config.video_type} dataset{processes}.", flush=True)
            solver.run(resume=config.resume)
        return 0
    finally:
        distributed.leave()


if __name__ == "__main__":
    run_cli(main, "" if os.environ.get(QUIET_INTERRUPT) else INTERRUPTED)
