"""A run's TensorBoard log: the `loss_epoch` scalars training logged, their export to scalars.csv
(wall_time,step,loss_epoch), which model selection reads, and the evaluation's own scalars written beside them.

The events are read with TensorBoard's own reader, so TensorFlow is not needed; values are written as Python's csv
module writes floats. The evaluation's scalars go to one event file of a fixed name, EVALUATION_EVENTS, replaced
atomically on every evaluation (so re-evaluating never adds events); it sorts after training's files (named by
their creation time), so a purge that resumed training logged never drops its events, and it holds no loss_epoch.
"""
import csv
import io
import math
from pathlib import Path

from tensorboard.backend.event_processing import event_accumulator

from common import fileio
from common.errors import UserError
from common.tblog import event_file_bytes

TAG = "loss_epoch"
HEADER = ("wall_time", "step", TAG)
EVALUATION_EVENTS = "events.out.tfevents.9999999999.evaluation"


def has_events(log_dir: Path) -> bool:
    """Whether the folder holds training's TensorBoard event files (the evaluation's own file does not count)."""
    return any(path.name != EVALUATION_EVENTS for path in Path(log_dir).glob("events.out.tfevents.*"))


def read_loss_events(log_dir: Path) -> list[tuple[float, int, float]]:
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


def export_scalars(log_dir: Path, output_dir: Path | None = None) -> Path:
    """Write {output_dir}/scalars.csv from the events of `log_dir`; return its path."""
    rows = read_loss_events(log_dir)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = Path(output_dir if output_dir is not None else log_dir) / "scalars.csv"
    fileio.write_text(path, text.getvalue())
    return path


def write_evaluation_events(log_dir: Path, scalars: list[tuple[str, float, int, float]]) -> Path:
    """Replace the evaluation's event file of a run's log folder with `scalars` [(tag, value, step, wall_time)];
    return its path."""
    path = Path(log_dir) / EVALUATION_EVENTS
    fileio.write_bytes(path, event_file_bytes(scalars, scalars[0][3] if scalars else 0.0))
    return path
