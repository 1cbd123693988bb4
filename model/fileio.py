"""Atomic file writes: the output appears whole under its final name, or not at all (the old file stays intact)."""
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from model.errors import UserError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success move it over `path`, on failure remove it."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_UMASK)
    except OSError as e:
        raise UserError(f"{path}: cannot write: {e.strerror}") from None
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(f"{path}: cannot write: {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove_stale_temporaries(folder):
    """Delete the temporary files an atomic write killed half-way (SIGKILL, power loss) left in `folder`."""
    for tmp in Path(folder).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


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
    """Write `obj` as JSON to `path` atomically."""
    write_text(path, json.dumps(obj, **kwargs))
