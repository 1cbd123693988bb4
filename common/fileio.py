"""Reading the user's files with one-line errors, and atomic writes: an output appears whole under its final name,
or not at all (the old file stays intact)."""
import glob
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common.errors import UserError

_UMASK = os.umask(0)
os.umask(_UMASK)


def reason(error: OSError) -> str:
    """The cause of an OSError in a few words, e.g. "No space left on device" (HDF5's own messages run over several
    lines, with the errno inside)."""
    found = re.search(r"errno = (\d+)", str(error))
    errno = error.errno or (int(found.group(1)) if found else None)
    return os.strerror(errno) if errno else " ".join(str(error).split())


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file `path`, in hexadecimal, read 1 MB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def read_bytes(path: Path, what: str, hint: str = "") -> bytes:
    """The content of the user's file `path` (a `what`, e.g. "splits file"); missing or unreadable -> UserError.

    `hint` is appended to the "not found" message (where to get the file)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: {what} not found{hint}")
    try:
        return path.read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read {what} ({reason(e)})") from None


def read_text(path: Path, what: str, hint: str = "") -> str:
    """The UTF-8 text of the user's file `path`, or a one-line UserError naming it."""
    try:
        return read_bytes(path, what, hint).decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: {what} is not UTF-8 text") from None


def read_json(path: Path, what: str, hint: str = "") -> object:
    """The parsed JSON of the user's file `path`, or a one-line UserError (missing, binary, truncated, too deep)."""
    text = read_text(path, what, hint)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: not valid JSON, truncated or corrupt? ({e})") from None
    except RecursionError:
        raise UserError(f"{path}: not valid JSON for a {what} (nested too deeply)") from None


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
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


def remove_stale_temporaries(folder: Path) -> None:
    """Delete the temporary files an atomic write killed half-way (SIGKILL, power loss) left in `folder`."""
    for tmp in Path(folder).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (flushed to disk before the rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically as UTF-8, as read_text reads it (flushed to disk before the rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def finite(value: float | None) -> float | None:
    """`value` as JSON can hold it: JSON has no NaN, so an undefined number (the rank correlation of constant
    scores, a 0 / 0 improvement) becomes None (null)."""
    return value if value is not None and math.isfinite(value) else None


def write_json(path: Path, obj: object, **kwargs) -> None:
    """Write `obj` as JSON to `path` atomically; a NaN or an infinity (which JSON does not have) is refused."""
    try:
        text = json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError as e:
        raise UserError(f"{path}: not written: {e}") from None
    write_text(path, text)
