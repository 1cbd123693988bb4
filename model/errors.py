"""User-facing errors: one line naming the file and the problem, a non-zero exit, no traceback."""
import sys


class UserError(Exception):
    """A problem with the user's input or environment that the user can fix (bad file, bad argument, ...)."""


def printable(text):
    """`text` with control characters escaped, so that a message from odd input (a video key holding a line
    separator, say) stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def run_cli(main):
    """Call main(); report a UserError as `error: ...` on stderr and exit 2 instead of printing a traceback."""
    try:
        return main()
    except UserError as e:
        print(f"error: {printable(str(e))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
