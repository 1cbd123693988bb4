"""Train CA-SUM on one split for one sigma: `python model/main.py --split_index 0 --video_type SumMe --reg_factor 0.6`."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.configs import get_config  # noqa: E402
from model.data_loader import VideoData  # noqa: E402
from model.errors import UserError, run_cli  # noqa: E402
from model.solver import Solver, run_state  # noqa: E402


def main(argv=None):
    config = get_config(argv)
    state = run_state(config)
    if state == "finished" and not config.overwrite:
        print(f"{config.run_label}: already finished, nothing to do (--overwrite to train again)")
        return 0
    if state == "finished-other" and not config.overwrite:
        raise UserError(f"{config.save_dir}: holds a finished run of another length than --n_epochs "
                        f"{config.n_epochs}; use another --exp_dir, or --overwrite to replace it")
    if state == "interrupted" and not (config.resume or config.overwrite):
        raise UserError(f"{config.run_label}: an unfinished run is there; continue it with --resume or start over "
                        f"with --overwrite")
    print(f"[Current split: {config.split_index}]: block_size={config.block_size} and "
          f"\u03c3={config.reg_factor} for {config.video_type} dataset.")
    train_data = VideoData(config.dataset_file, config.split["train_keys"], config.input_size)
    test_data = VideoData(config.dataset_file, config.split["test_keys"], config.input_size)
    Solver(config, train_data, test_data).run(resume=config.resume)


if __name__ == "__main__":
    run_cli(main)
