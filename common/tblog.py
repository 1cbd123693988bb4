"""TensorBoard scalars, written in TensorBoard's own event-file format (no torch needed, so evaluation can add its
per-epoch F-scores to a run's log next to training's `loss_epoch`).

The events are written by the caller's thread and flushed after each one, so a write error (disk full, read-only
folder) reaches the caller as one line, and a killed run keeps every scalar it logged. (TensorBoard's own
EventFileWriter writes from a thread of its own, whose errors would print a traceback the caller cannot catch.)
"""
import io
import itertools
import os
import socket
import time
from collections.abc import Iterable
from pathlib import Path

from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.record_writer import RecordWriter

from common.errors import UserError
from common.fileio import reason

_files = itertools.count()  # tells apart the event files one process opens within a second


def event_file_name(suffix: str = "") -> str:
    """A new event file's name as TensorBoard names them: events.out.tfevents.{time}.{host}.{pid}.{n}{suffix}."""
    return f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_files)}{suffix}"


class ScalarLog:
    """A new event file in `log_dir` receiving scalars, flushed after each add.

    `purge_step`: TensorBoard readers drop the events an earlier, interrupted writer logged from that step on (as
    torch's SummaryWriter(purge_step=...) does). A write error is a UserError naming the folder.
    """

    def __init__(self, log_dir: Path, purge_step: int | None = None, suffix: str = ""):
        self.log_dir = Path(log_dir)
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self.records = RecordWriter(open(self.log_dir / event_file_name(suffix), "xb"))
        except OSError as e:
            raise self.failed(e) from None
        self._write(Event(wall_time=time.time(), file_version="brain.Event:2"))
        if purge_step is not None:
            self._write(Event(step=purge_step, wall_time=time.time(), session_log=SessionLog(status=SessionLog.START)))

    def failed(self, error: OSError) -> UserError:
        return UserError(f"{self.log_dir}: cannot write the TensorBoard log: {reason(error)}")

    def _write(self, event: Event) -> None:
        try:
            self.records.write(event.SerializeToString())
            self.records.flush()
        except OSError as e:
            raise self.failed(e) from None

    def add(self, tag: str, value: float, step: int) -> None:
        """Log scalar `tag` = `value` at `step`, flushed to disk at once."""
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
        self._write(Event(step=step, wall_time=time.time(), summary=summary))

    def close(self) -> None:
        try:
            self.records.close()
        except OSError as e:
            raise self.failed(e) from None

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
