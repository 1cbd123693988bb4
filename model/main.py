"""Train CA-SUM on one split for one sigma: `python model/main.py --split_index 0 --video_type SumMe --reg_factor 0.6`."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.configs import get_config  # noqa: E402
from model.data_loader import VideoData  # noqa: E402
from model.errors import run_cli  # noqa: E402
from model.solver import Solver  # noqa: E402


def main(argv=None):
    config = get_config(argv)
    print(f"[Current split: {config.split_index}]: block_size={config.block_size} and "
          f"\u03c3={config.reg_factor} for {config.video_type} dataset.")
    train_data = VideoData(config.dataset_file, config.split["train_keys"], config.input_size)
    test_data = VideoData(config.dataset_file, config.split["test_keys"], config.input_size)
    solver = Solver(config, train_data, test_data)
    solver.evaluate(-1)
    solver.train()


if __name__ == "__main__":
    run_cli(main)
