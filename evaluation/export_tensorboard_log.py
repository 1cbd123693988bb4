"""Export the `loss_epoch` scalars of a run's TensorBoard log folder to scalars.csv (wall_time,step,loss_epoch).

Usage: python evaluation/export_tensorboard_log.py LOG_DIR [OUTPUT_DIR]   (OUTPUT_DIR defaults to LOG_DIR)

Model selection (choose_best_model.py) reads the loss of every epoch from that file. The events are read with
TensorBoard's own event reader, so TensorFlow is not needed; values are written as Python's csv module writes floats.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import math  # noqa: E402

from tensorboard.backend.event_processing import event_accumulator  # noqa: E402

from model import fileio  # noqa: E402
from model.errors import UserError, run_cli  # noqa: E402

TAG = "loss_epoch"
HEADER = ("wall_time", "step", TAG)


def has_events(log_dir):
    """Whether the folder holds TensorBoard event files."""
    return any(Path(log_dir).glob("events.out.tfevents.*"))


def read_loss_events(log_dir):
    """[(wall_time, step, value), ...] of the loss_epoch scalar in the event files of `log_dir`, in step order."""
    log_dir = Path(log_dir)
    if not log_dir.is_dir():
        raise UserError(f"{log_dir}: log folder not found")
    if not has_events(log_dir):
        raise UserError(f"{log_dir}: no TensorBoard event files (events.out.tfevents.*)")
    accumulator = event_accumulator.EventAccumulator(str(log_dir), size_guidance={event_accumulator.SCALARS: 0})
    try:
        accumulator.Reload()
    except Exception as e:  # the reader raises various errors on corrupt files
        raise UserError(f"{log_dir}: cannot read the TensorBoard events ({e})") from None
    if TAG not in accumulator.Tags().get(event_accumulator.SCALARS, []):
        raise UserError(f"{log_dir}: the TensorBoard events have no '{TAG}' scalar")
    rows = [(event.wall_time, event.step, event.value) for event in accumulator.Scalars(TAG)]
    bad = next((step for _, step, value in rows if not math.isfinite(value)), None)
    if bad is not None:
        raise UserError(f"{log_dir}: the {TAG} logged at step {bad} is NaN or infinite (a diverged run?)")
    return rows


def export_scalars(log_dir, output_dir=None):
    """Write {output_dir}/scalars.csv from the events of `log_dir`; return its path."""
    rows = read_loss_events(log_dir)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = Path(output_dir if output_dir is not None else log_dir) / "scalars.csv"
    fileio.write_text(path, text.getvalue())
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python evaluation/export_tensorboard_log.py",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("log_dir", type=Path, help="TensorBoard log folder of one run (.../logs/split{k})")
    parser.add_argument("output_dir", type=Path, nargs="?", default=None,
                        help="folder of scalars.csv (default: the log folder)")
    args = parser.parse_args(argv)
    path = export_scalars(args.log_dir, args.output_dir)
    print(f"wrote {path}")


if __name__ == "__main__":
    run_cli(main)
