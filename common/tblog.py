"""TensorBoard scalars, written with TensorBoard's own event writer (no torch needed, so evaluation can add its
per-epoch F-scores to a run's log next to training's `loss_epoch`)."""
import io
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.summary.writer.record_writer import RecordWriter

from common.errors import UserError
from common.fileio import reason


class ScalarLog:
    """A new event file in `log_dir` receiving scalars, flushed after each add.

    `purge_step`: TensorBoard readers drop the events an earlier, interrupted writer logged from that step on (as
    torch's SummaryWriter(purge_step=...) does). A write error (disk full, read-only folder) is a UserError naming
    the folder; the writer's thread, which meets it first, is kept from printing its own traceback.
    """

    def __init__(self, log_dir: Path, purge_step: int | None = None, suffix: str = ""):
        self.log_dir = Path(log_dir)
        self._hook = threading.excepthook
        threading.excepthook = lambda args: None if issubclass(args.exc_type, OSError) else self._hook(args)
        try:
            self.writer = EventFileWriter(str(self.log_dir), filename_suffix=suffix)
            if purge_step is not None:
                self.writer.add_event(Event(step=purge_step, wall_time=time.time(),
                                            session_log=SessionLog(status=SessionLog.START)))
        except OSError as e:
            threading.excepthook = self._hook
            raise self.failed(e) from None

    def failed(self, error: OSError) -> UserError:
        return UserError(f"{self.log_dir}: cannot write the TensorBoard log: {reason(error)}")

    def add(self, tag: str, value: float, step: int) -> None:
        """Log scalar `tag` = `value` at `step`, flushed to disk at once."""
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
        try:
            self.writer.add_event(Event(step=step, wall_time=time.time(), summary=summary))
            self.writer.flush()
        except OSError as e:
            raise self.failed(e) from None

    def close(self) -> None:
        try:
            self.writer.close()
        except OSError as e:
            raise self.failed(e) from None
        finally:
            threading.excepthook = self._hook

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def event_file_bytes(scalars: Iterable[tuple[str, float, int, float]], wall_time: float) -> bytes:
    """The content of an event file holding `scalars` [(tag, value, step, wall_time), ...], framed as TensorBoard's
    writer frames it, after the file-version event at `wall_time`. The wall times are given, not read from the
    clock, so the same scalars give the same bytes (a file rewritten with them is unchanged)."""
    buffer = io.BytesIO()
    records = RecordWriter(buffer)
    records.write(Event(wall_time=wall_time, file_version="brain.Event:2").SerializeToString())
    for tag, value, step, at in scalars:
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
        records.write(Event(step=step, wall_time=at, summary=summary).SerializeToString())
    return buffer.getvalue()
