"""Many videos in one command: a progress bar over them, each video's failure reported in one line while the others
go on, and a non-zero exit at the end listing the failed ones."""
import sys
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from common.errors import UserError, printable


def failure_line(video: Path, error: Exception) -> str:
    """One line saying why `video` failed: a UserError's own message (it names the file), else the error's type
    and first line after the video's name."""
    if isinstance(error, UserError):
        return printable(str(error))
    first = (str(error).strip().splitlines() or [""])[0]
    return printable(f"{video}: {type(error).__name__}: {first}")


def run_batch(videos: list[Path], work: Callable[[Path], list[str]], noun: str = "videos") -> None:
    """Call `work(video)` for every video and print the lines it returns.

    Args:
        videos: the videos, in order.
        work: does one video; returns the lines to print; raises to fail it.
        noun: names the progress bar.
    Returns:
        None; a UserError naming every failed video when any failed (after all the others were done). A single
        video's own error is raised as it is.
    """
    if len(videos) == 1:
        for line in work(videos[0]):
            print(line, flush=True)
        return
    failed = []
    with tqdm(videos, desc=noun, unit="video", disable=None) as progress:
        for video in progress:
            try:
                lines = work(video)
            except Exception as e:  # any failure of one video is reported and the batch goes on
                failed.append(video)
                tqdm.write(f"error: {failure_line(video, e)}", file=sys.stderr)
                continue
            for line in lines:
                tqdm.write(line)
            sys.stdout.flush()
    if failed:
        raise UserError(f"{len(failed)} of {len(videos)} {noun} failed: {', '.join(str(v) for v in failed)}")
