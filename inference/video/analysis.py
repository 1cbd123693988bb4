"""What every use of a video starts with: its sampled frames' features, its timeline and its shots.

summarize_video.py and data/make_dataset_from_videos.py both call `analyse`, so a training set built from videos has
exactly the features and shots that a summary of them uses. Decoding runs in a thread of its own, a few batches
ahead of the backbone (docs/video.md, "Speed"): FFmpeg and PyTorch release the GIL, so on two cores the decoding of
the next frames overlaps the backbone's work on the previous ones.
"""
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from common.errors import UserError
from inference.video.decode import CROP, SAMPLES_PER_SECOND, Timeline, VideoReader
from inference.video.features import FEATURE_SIZE, embed
from inference.video.segmentation import Shots, segment
from inference.video.shots import MIN_SHOT

QUEUED_BATCHES = 3  # decoded batches waiting for the backbone: enough to absorb jitter, a few MB each


@dataclass
class Analysis:
    """One video's features [n_samples, 1024] (float32), timeline, shots and the seconds its stages took."""
    features: np.ndarray
    timeline: Timeline
    shots: Shots
    seconds: dict[str, float] = field(default_factory=dict)


class _Stop(Exception):
    """Raised in the decoding thread when the consumer has given up."""


def _decode_batches(reader: VideoReader, batch_size: int, out: queue.Queue, stop: threading.Event,
                    seconds: dict[str, float]) -> None:
    """Thread body: put uint8 batches [n, CROP, CROP, 3] of sampled frames on `out`, then None; an exception
    instead, if decoding fails. `seconds["decode"]` gets the time spent decoding."""
    def put(item):
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stop

    frames = reader.sampled_frames()
    busy = 0.0
    try:
        batch, n = np.empty((batch_size, CROP, CROP, 3), dtype=np.uint8), 0
        while True:
            start = time.perf_counter()
            item = next(frames, None)
            busy += time.perf_counter() - start
            if item is None:
                break
            batch[n], n = item[1], n + 1
            if n == batch_size:
                put(batch)
                batch, n = np.empty_like(batch), 0
        if n:
            put(batch[:n])
        put(None)
    except _Stop:
        pass
    except BaseException as e:  # handed to the consumer, which raises it
        try:
            put(e)
        except _Stop:
            pass
    finally:
        frames.close()
        seconds["decode"] = busy


def extract_features(reader: VideoReader, backbone: torch.nn.Module, device: torch.device, batch_size: int,
                     seconds: dict[str, float]) -> np.ndarray:
    """float32 [n_samples, 1024] pool5 features of the video's sampled frames, decoding in a thread meanwhile.

    Args:
        reader: the video; its `timeline` is set when this returns.
        backbone: from features.load_backbone.
        device: where the backbone runs.
        batch_size: frames per backbone batch.
        seconds: receives "decode" (the decoding thread's busy time), "features" (the backbone's) and
            "decode+features" (the wall time of the two together).
    Returns:
        The features, one row per sampled frame.
    """
    expected = None if reader.expected_frames is None or not reader.fps else int(
        reader.expected_frames / reader.fps * SAMPLES_PER_SECOND) + 1
    batches: queue.Queue = queue.Queue(maxsize=QUEUED_BATCHES)
    stop = threading.Event()
    thread = threading.Thread(target=_decode_batches, args=(reader, batch_size, batches, stop, seconds),
                              name="decode", daemon=True)
    chunks, busy, start = [], 0.0, time.perf_counter()
    thread.start()
    try:
        with tqdm(total=expected, desc="features", unit="frame", disable=None, leave=False) as progress:
            while (item := batches.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                begin = time.perf_counter()
                chunks.append(embed(backbone, item, device))
                busy += time.perf_counter() - begin
                progress.update(len(item))
    finally:
        stop.set()
        thread.join()
    seconds["features"], seconds["decode+features"] = busy, time.perf_counter() - start
    if not chunks:
        return np.zeros((0, FEATURE_SIZE), dtype=np.float32)
    return torch.cat(chunks).numpy().astype(np.float32, copy=False)


def analyse(video: Path, backbone: torch.nn.Module, device: torch.device, batch_size: int, max_shot_seconds: float,
            ratio: float) -> Analysis:
    """Decode `video`, extract its features and find its shots.

    Args:
        video: the video file.
        backbone: from features.load_backbone.
        device: where the backbone runs.
        batch_size: frames per backbone batch.
        max_shot_seconds: the longest shot kept whole (segmentation.py).
        ratio: the summary's share of the frames: shots are cut further if none would fit it.
    Returns:
        The Analysis; a video shorter than one shot (one second) is a UserError.
    """
    reader = VideoReader(video)
    seconds: dict[str, float] = {}
    features = extract_features(reader, backbone, device, batch_size, seconds)
    timeline = reader.timeline
    if len(features) < MIN_SHOT:
        raise UserError(f"{video}: video shorter than one shot ({timeline.n_frames} frames, {timeline.duration:.2f} s; "
                        f"a shot is at least {MIN_SHOT / SAMPLES_PER_SECOND:g} s)")
    start = time.perf_counter()
    shots = segment(features, timeline.picks, timeline.n_frames, max_shot_seconds, ratio, video)
    seconds["shots"] = time.perf_counter() - start
    return Analysis(features, timeline, shots, seconds)
