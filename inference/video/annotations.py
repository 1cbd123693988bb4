"""Annotations of your own videos for evaluation: a CSV `video,annotator,start_seconds,end_seconds`, one row per
selected interval, turned into one binary user summary per annotator (docs/video.md, "A training set").

`video` is the file's name (clip.mp4) or its stem (clip), and may be either on different rows: the rows of both
count. A frame is in an annotator's summary when its time (from the video's first frame) lies in one of their
intervals [start, end). Every problem is a one-line UserError naming the CSV file and its line; an interval that
ends well after the video (seconds written as frames?) is a warning.
"""
import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import fileio
from common.errors import UserError, warn

HEADER = ["video", "annotator", "start_seconds", "end_seconds"]
PAST_END = 1.0  # seconds an interval may run past the video's end without a warning (a rounded-up length)


@dataclass(frozen=True)
class Interval:
    start: float
    end: float
    line: int  # in the CSV file, for errors


class Annotations:
    """The intervals of a CSV file: {video name: {annotator: [Interval, ...]}}, annotators in order of appearance."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.videos: dict[str, dict[str, list[Interval]]] = {}
        text = fileio.read_text(self.path, "annotations file")
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or [cell.strip() for cell in rows[0]] != HEADER:
            raise UserError(f"{self.path}: line 1: expected the header {','.join(HEADER)}")
        for line, row in enumerate(rows[1:], start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(HEADER):
                raise UserError(f"{self.path}: line {line}: expected {len(HEADER)} fields ({','.join(HEADER)}), "
                                f"got {len(row)}")
            video, annotator = row[0].strip(), row[1].strip()
            if not video or not annotator:
                raise UserError(f"{self.path}: line {line}: empty video or annotator")
            start, end = (self.seconds(text, line) for text in row[2:])
            if end <= start:
                raise UserError(f"{self.path}: line {line}: end_seconds {end:g} is not after start_seconds {start:g}")
            self.videos.setdefault(video, {}).setdefault(annotator, []).append(Interval(start, end, line))

    def seconds(self, text: str, line: int) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise UserError(f"{self.path}: line {line}: {text.strip()!r} is not a time in seconds (a number >= 0)")
        return value

    def rows_of(self, video: Path) -> dict[str, list[Interval]]:
        """{annotator: intervals} of `video`, from the rows naming it by file name and those naming it by stem,
        annotators in order of appearance (empty when there are none)."""
        merged: dict[str, list[Interval]] = {}
        for key in dict.fromkeys((video.name, video.stem)):
            for annotator, intervals in self.videos.get(key, {}).items():
                merged.setdefault(annotator, []).extend(intervals)
        return dict(sorted(merged.items(), key=lambda item: min(i.line for i in item[1])))

    def check_rows(self, videos: list[Path]) -> None:
        """Every row names one of the videos. (A video without rows fails on its own, so that one that cannot be
        read is reported as such: make_dataset_from_videos.py.)"""
        known = {key for video in videos for key in (video.name, video.stem)}
        for key, annotators in self.videos.items():
            if key not in known:
                line = min(i.line for intervals in annotators.values() for i in intervals)
                raise UserError(f"{self.path}: line {line}: video {key!r} is not one of the videos given")

    def user_summary(self, video: Path, seconds: np.ndarray, n_frames: int) -> np.ndarray:
        """[n_annotators, n_frames] float32 0/1 summaries of `video`, whose frame i is at `seconds[i]`
        (seconds[n_frames] is the video's end)."""
        duration = float(seconds[n_frames])
        rows = []
        for intervals in self.rows_of(video).values():
            row = np.zeros(n_frames, dtype=np.float32)
            for interval in intervals:
                if interval.start >= duration:
                    raise UserError(f"{self.path}: line {interval.line}: starts at {interval.start:g} s, after the "
                                    f"end of {video.name} ({duration:.3f} s)")
                if interval.end > duration + PAST_END:
                    warn(f"{self.path}: line {interval.line}: ends at {interval.end:g} s, after the end of "
                         f"{video.name} ({duration:.3f} s): times are in seconds, not frames")
                row[(seconds[:n_frames] >= interval.start) & (seconds[:n_frames] < interval.end)] = 1
            rows.append(row)
        return np.stack(rows)
