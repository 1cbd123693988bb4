"""Atomic file writes: the output appears whole under its final name, or not at all (the old file stays intact)."""
import glob
import io
import json
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from model.errors import UserError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success move it over `path`, on failure remove it.

    Temporaries of `path` that an earlier writer killed half-way (SIGKILL, power loss) left behind are removed first.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_UMASK)
    except OSError as e:
        raise UserError(f"{path}: cannot write: {reason(e)}") from None
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(f"{path}: cannot write: {reason(e)}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def reason(error):
    """The cause of an OSError in a few words, e.g. "No space left on device" (HDF5's own messages run over several
    lines, with the errno inside)."""
    found = re.search(r"errno = (\d+)", str(error))
    errno = error.errno or (int(found.group(1)) if found else None)
    return os.strerror(errno) if errno else " ".join(str(error).split())


def remove_stale_temporaries(folder):
    """Delete the temporary files an atomic write killed half-way (SIGKILL, power loss) left in `folder`."""
    for tmp in Path(folder).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def write_bytes(path, data):
    """Write `data` to `path` atomically (flushed to disk before the rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def write_text(path, text):
    """Write `text` to `path` atomically (flushed to disk before the rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def torch_bytes(obj):
    """torch.save of `obj` into bytes (the same bytes as in a file: the archive is named alike)."""
    import torch
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


class BackgroundWriter:
    """Runs batches of write tasks on a worker thread, in order, so that training goes on while files reach the disk.

    submit() first waits for the previous batch, so at most one is pending. The first error of a task is raised
    again by the next submit() or by wait(); leaving a `with` block waits too (quietly when an exception is already
    on its way out).
    """

    def __init__(self):
        self._thread, self._error = None, None

    def submit(self, tasks):
        self.wait()
        self._thread = threading.Thread(target=self._run, args=(list(tasks),), name="BackgroundWriter", daemon=True)
        self._thread.start()

    def _run(self, tasks):
        try:
            for task in tasks:
                task()
        except BaseException as e:  # handed to the main thread, which raises it
            self._error = e

    def wait(self):
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.wait()
        elif self._thread is not None:
            self._thread.join()


def write_json(path, obj, **kwargs):
    """Write `obj` as JSON to `path` atomically; a NaN or an infinity (which JSON does not have) is refused."""
    try:
        text = json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError as e:
        raise UserError(f"{path}: not written: {e}") from None
    write_text(path, text)
