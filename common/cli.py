"""argparse value types shared by the command-line scripts: bad values are refused with a message and exit 2."""
import argparse
from collections.abc import Callable

DEVICES = ("auto", "cpu", "cuda")


def str2bool(text: str) -> bool:
    """'true'/'false' (and yes/no, t/f, y/n, 1/0) to bool, for the reference's boolean flags."""
    if text.lower() in ("yes", "true", "t", "y", "1"):
        return True
    if text.lower() in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError(f"boolean value expected (true or false), got {text!r}")


def bounded(cast: Callable, low: float | None = None, high: float | None = None, low_open: bool = False,
            what: str = "value") -> Callable[[str], object]:
    """An argparse type: `cast` the string, then check low <= x (or low < x) and x <= high."""
    def parse(text):
        try:
            x = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {cast.__name__} value: {text!r}") from None
        if x != x or (low is not None and (x <= low if low_open else x < low)) or (high is not None and x > high):
            lo = "" if low is None else f"{low} {'<' if low_open else '<='} "
            hi = "" if high is None else f" <= {high}"
            raise argparse.ArgumentTypeError(f"{what} must satisfy {lo}{what}{hi}, got {text}")
        return x
    return parse


def optional(parse: Callable[[str], object]) -> Callable[[str], object]:
    """Accept 'None' (any case) as None, as the reference's README allows for --seed, --init_type, --init_gain."""
    def wrapped(text):
        return None if text.lower() == "none" else parse(text)
    return wrapped


def positive(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def description(doc: str) -> str:
    """A script's --help description: the first paragraph of its docstring as one sentence (its first line alone
    may stop mid-sentence); a paragraph that introduces a usage example with a colon ends with a full stop."""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    return paragraph[:-1] + "." if paragraph.endswith(":") else paragraph
