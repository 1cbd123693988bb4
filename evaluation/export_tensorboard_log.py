"""Export the `loss_epoch` scalars of a run's TensorBoard log folder to scalars.csv (wall_time,step,loss_epoch).

Usage: python evaluation/export_tensorboard_log.py LOG_DIR [OUTPUT_DIR]   (OUTPUT_DIR defaults to LOG_DIR)

Model selection (choose_best_model.py) reads the loss of every epoch from that file (evaluation/scalars.py).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse

from common.cli import description
from common.errors import run_cli
from evaluation.scalars import export_scalars


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python evaluation/export_tensorboard_log.py",
                                     description=description(__doc__))
    parser.add_argument("log_dir", type=Path, help="TensorBoard log folder of one run (.../logs/split{k})")
    parser.add_argument("output_dir", type=Path, nargs="?", default=None,
                        help="folder of scalars.csv (default: the log folder)")
    args = parser.parse_args(argv)
    path = export_scalars(args.log_dir, args.output_dir)
    print(f"wrote {path}")


if __name__ == "__main__":
    run_cli(main)
