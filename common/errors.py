"""User-facing errors: one line naming the file and the problem, a non-zero exit, no traceback; and warnings, one
line each, for results that are computed but may mean nothing."""
import os
import sys
from collections.abc import Callable

from tqdm import tqdm


class UserError(Exception):
    """A problem with the user's input or environment that the user can fix (bad file, bad argument, ...)."""


def printable(text: str) -> str:
    """`text` with control characters escaped, so that a message from odd input (a video key holding a line
    separator, say) stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def warn(message: str) -> None:
    """Print `warning: message` on stderr as one line, above any progress bar on the terminal."""
    tqdm.write(f"warning: {printable(message)}", file=sys.stderr)


def check_all(*checks: Callable[[], object]) -> list:
    """Run every check, so that one try reports every missing input instead of one per try: each failure but the
    last is printed as its own `error:` line, the last raised. Returns the checks' results."""
    results, failures = [], []
    for check in checks:
        try:
            results.append(check())
        except UserError as e:
            failures.append(e)
    for failure in failures[:-1]:
        print(f"error: {printable(str(failure))}", file=sys.stderr)
    if failures:
        raise failures[-1]
    return results


def run_cli(main: Callable[[], object], interrupted: str = "interrupted") -> object:
    """Call main() as a command-line script does.

    A UserError is printed as `error: ...` on stderr with exit status 2, instead of a traceback. Ctrl-C (or SIGTERM
    turned into KeyboardInterrupt) prints `interrupted` (the script says how to continue; nothing when empty) and
    exits with 130. A
    reader that stops early (`| head`) is not an error: the rest of the output is dropped quietly.
    """
    try:
        return main()
    except UserError as e:
        print(f"error: {printable(str(e))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        if interrupted:
            print(interrupted, file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        sys.exit(1)
