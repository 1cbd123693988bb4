"""Decoding with PyAV: the frames sampled two per second, streamed, plus every frame's timestamp for the outputs.

The benchmark features (docs/method.md, "Data") take every 15th frame of 30 fps videos, i.e. two frames per second.
Other frame rates are sampled by timestamp: the first frame at or after each multiple of half a second. Frames are
numbered 0, 1, ... in presentation order, as PyAV decodes them. Only the sampled frames are converted to RGB, already
resized by libswscale to the backbone's input (ImageNet: shorter side 256, centre crop 224), so a frame costs its
decoding and nothing more; the whole video is never held in memory (the per-frame timestamps take 8 bytes a frame).
"""
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from tqdm import tqdm

from common.errors import UserError

SAMPLES_PER_SECOND = 2
RESIZE, CROP = 256, 224


def av_reason(error):
    """FFmpeg's own one-line reason for an av error."""
    return getattr(error, "strerror", None) or str(error).splitlines()[0]


def open_video(path):
    """An opened PyAV container holding at least one video stream, or a one-line UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: video file not found")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as e:
        raise UserError(f"{path}: not a readable video ({av_reason(e)})") from None
    if not container.streams.video:
        container.close()
        raise UserError(f"{path}: no video stream")
    return container


def resize_shape(width, height):
    """(width, height) with the shorter side RESIZE, the longer one truncated as torchvision's Resize does."""
    if width <= height:
        return RESIZE, int(RESIZE * height / width)
    return int(RESIZE * width / height), RESIZE


@dataclass
class Timeline:
    """What decoding learnt about the video: frame count, sampled frames, and every frame's timestamp.

    `pts` holds each frame's presentation timestamp in the stream's time base, or is None when the container does
    not give timestamps (then times follow the nominal frame rate). `seconds[i]` is frame i's time from the first
    frame; `seconds[n_frames]` is the end of the video (last frame's time plus one frame duration). `start` is the
    first frame's time on the container's clock (where the audio's timestamps are).
    """
    n_frames: int
    rate: Fraction
    picks: np.ndarray
    seconds: np.ndarray
    pts: np.ndarray | None
    width: int
    height: int
    has_audio: bool
    start: float

    @property
    def fps(self):
        return float(self.rate)

    @property
    def duration(self):
        return float(self.seconds[self.n_frames])


class VideoReader:
    """Streams the sampled frames of one video (uint8 [CROP, CROP, 3] RGB); `timeline` is set once they are read.

    `threads` is FFmpeg's decoding threads (0: its own choice, frame threads for H.264). One is the cheapest in CPU
    time: frame threads cost about 25% more (720p H.264: 4.3 against 3.5 CPU seconds for 4,000 frames), which on a
    CPU that the backbone keeps busy is time taken from it (analysis.py)."""

    def __init__(self, path, threads=0):
        self.path = Path(path)
        self.threads = threads
        container = open_video(self.path)
        stream = container.streams.video[0]
        self.width, self.height = stream.codec_context.width, stream.codec_context.height
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        self.rate = Fraction(rate) if rate else None
        self.fps = float(rate or 0)
        self.expected_frames = stream.frames or (
            int(float(stream.duration * stream.time_base) * self.fps) if stream.duration and self.fps else None)
        self.has_audio = bool(container.streams.audio)
        container.close()
        if not self.width or not self.height:
            raise UserError(f"{self.path}: video stream has no frame size")
        self.timeline = None

    def sampled_frames(self):
        """Yield (frame number, RGB array) for every sampled frame; afterwards `self.timeline` describes the video."""
        container = open_video(self.path)
        stream = container.streams.video[0]
        stream.codec_context.thread_count = self.threads
        stream.thread_type = "AUTO"
        time_base = stream.time_base or Fraction(1, 1)
        width, height = resize_shape(self.width, self.height)
        top, left = int(round((height - CROP) / 2.0)), int(round((width - CROP) / 2.0))
        # Times are exact fractions of the time base; the microsecond only absorbs their conversion to float.
        tolerance = 1e-6
        pts, seconds, picks = array("q"), array("d"), []
        next_sample, first_pts = 0.0, None
        progress = tqdm(total=self.expected_frames, desc="decoding", unit="frame", disable=None)
        try:
            for index, frame in enumerate(container.decode(stream)):
                if frame.pts is None or pts is None:
                    pts = None
                    t = index / self.fps if self.fps else float(index)
                else:
                    first_pts = frame.pts if first_pts is None else first_pts
                    pts.append(frame.pts)
                    t = float((frame.pts - first_pts) * time_base)
                seconds.append(t)
                progress.update()
                if t + tolerance >= next_sample:
                    picks.append(index)
                    next_sample = (np.floor((t + tolerance) * SAMPLES_PER_SECOND) + 1) / SAMPLES_PER_SECOND
                    rgb = frame.to_ndarray(width=width, height=height, format="rgb24", interpolation="BILINEAR")
                    yield index, rgb[top:top + CROP, left:left + CROP]
        except av.FFmpegError as e:
            raise UserError(f"{self.path}: cannot decode frame {len(seconds)} ({av_reason(e)})") from None
        finally:
            progress.close()
            container.close()
        if not seconds:
            raise UserError(f"{self.path}: no decodable video frame")
        start = float(first_pts * time_base) if pts is not None and first_pts is not None else 0.0
        self.timeline = self._timeline(seconds, picks, pts, start)

    def _timeline(self, seconds, picks, pts, start):
        n = len(seconds)
        seconds = np.frombuffer(seconds, dtype=np.float64)
        rate = self.rate
        if not rate:
            measured = (n - 1) / seconds[-1] if n > 1 and seconds[-1] > 0 else 1.0
            rate = Fraction(measured).limit_denominator(1001)
        fps = float(rate)
        if n > 1 and not np.all(np.diff(seconds) > 0):
            # Timestamps out of order or repeated: number the frames at the nominal rate instead.
            pts, seconds = None, np.arange(n) / fps
        return Timeline(n_frames=n, rate=rate, picks=np.asarray(picks, dtype=np.int64),
                        seconds=np.append(seconds, seconds[-1] + 1.0 / fps),
                        pts=None if pts is None else np.frombuffer(pts, dtype=np.int64),
                        width=self.width, height=self.height, has_audio=self.has_audio, start=start)
