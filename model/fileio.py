"""Atomic file writes: the output appears whole under its final name, or not at all (the old file stays intact)."""
import glob
import json
import os
import re
import tempfile
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


def save_torch(path, obj):
    """torch.save `obj` to `path` atomically; the bytes depend only on `obj` (not on the temporary file's name)."""
    import torch
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())


def write_json(path, obj, **kwargs):
    """Write `obj` as JSON to `path` atomically; a NaN or an infinity (which JSON does not have) is refused."""
    try:
        text = json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError as e:
        raise UserError(f"{path}: not written: {e}") from None
    write_text(path, text)
