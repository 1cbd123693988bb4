"""What every use of a video starts with: its sampled frames' features, its timeline and its shots.

summarize_video.py and data/make_dataset_from_videos.py both call `analyse`, so a training set built from videos has
exactly the features and shots that a summary of them uses. Decoding runs in a thread of its own, a few batches
ahead of the backbone, which runs in one thread per core (docs/video.md, "Speed and memory"): FFmpeg and PyTorch
release the GIL, so the decoding of the next frames overlaps the backbone's work on the previous ones.
"""
import itertools
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from common.errors import UserError
from inference.video.ahead import ahead
from inference.video.decode import CROP, SAMPLES_PER_SECOND, Timeline, VideoReader
from inference.video.features import embed
from inference.video.googlenet import FEATURE_SIZE
from inference.video.segmentation import Shots, segment

QUEUED_BATCHES = 3  # decoded batches waiting for the backbone: enough to absorb jitter, a few MB each
# On CPU the decoding thread (one FFmpeg thread) and the backbone workers (one per core) share the cores; the
# workers run at a lower priority so that the decoder, which feeds them, is never the one waiting for a core.
# Measured on 2 shared cores, 10 minutes of 720p, in pairs: 49 s against 55 s, 30 s against 36 s.
BACKBONE_NICE = 5
MIN_SAMPLES = 2  # sampled frames (one second): the shortest video the commands take


def backbone_batch_size(requested: int | None, device: torch.device) -> int:
    """--batch_size, or its default on `device`: 8 frames on the CPU, 64 on CUDA."""
    return requested or (64 if device.type == "cuda" else 8)


@dataclass
class Analysis:
    """One video's features [n_samples, 1024] (float32), timeline, shots and the seconds its stages took."""
    features: np.ndarray
    timeline: Timeline
    shots: Shots
    seconds: dict[str, float] = field(default_factory=dict)


def decoded_batches(reader: VideoReader, batch_size: int, seconds: dict[str, float]) -> Iterator[np.ndarray]:
    """uint8 batches [n, CROP, CROP, 3] of the sampled frames; `seconds["decode"]` gets the time spent decoding
    them once the last is out."""
    frames, busy = reader.sampled_frames(), 0.0
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
                yield batch
                batch, n = np.empty_like(batch), 0
        if n:
            yield batch[:n]
    finally:
        frames.close()
        seconds["decode"] = busy


class Rows:
    """float32 rows appended a batch at a time into one array, which grows by half when full.

    The backbone's outputs are copied in and freed at once: a long video keeps no per-batch tensors, whose small
    allocations, scattered among the large transient ones of the backbone, kept the memory freed by those from being
    reused (on a 60-minute video the resident size rose from 949 to 1,071 MB during the features; it now stays
    between 876 and 913 MB), and no final concatenation holds the features twice.
    """

    def __init__(self, width: int, capacity: int):
        self.data, self.n = np.empty((max(1, capacity), width), dtype=np.float32), 0

    def append(self, rows: np.ndarray) -> None:
        if self.n + len(rows) > len(self.data):
            grown = np.empty((max(self.n + len(rows), len(self.data) * 3 // 2), self.data.shape[1]), np.float32)
            grown[:self.n] = self.data[:self.n]
            self.data = grown
        self.data[self.n:self.n + len(rows)] = rows
        self.n += len(rows)

    def array(self) -> np.ndarray:
        """The rows appended, [n, width]."""
        return self.data[:self.n]


def backbone_workers(device: torch.device) -> int:
    """Threads running the backbone: on CPU one per core, each with one PyTorch thread (batches in parallel scale
    better than one batch on several cores, whose per-layer barriers stall whenever another thread, like the
    decoder, holds a core); on CUDA one."""
    return 1 if device.type == "cuda" else max(1, min(len(os.sched_getaffinity(0)), torch.get_num_threads()))


def extract_features(reader: VideoReader, backbone: torch.nn.Module, device: torch.device, batch_size: int,
                     seconds: dict[str, float]) -> np.ndarray:
    """float32 [n_samples, 1024] pool5 features of the video's sampled frames, decoding in a thread meanwhile.

    Args:
        reader: the video; its `timeline` is set when this returns.
        backbone: from features.load_backbone.
        device: where the backbone runs.
        batch_size: frames per backbone batch.
        seconds: receives "decode" (the decoding thread's busy time), "features" (the backbone's busy time per
            worker thread) and "decode+features" (the wall time of the two together).
    Returns:
        The features, one row per sampled frame.
    """
    expected = None if reader.expected_frames is None or not reader.fps else int(
        reader.expected_frames / reader.fps * SAMPLES_PER_SECOND) + 1
    workers = backbone_workers(device)
    busy, busy_lock = [0.0], threading.Lock()

    def embed_timed(images):
        begin = time.perf_counter()
        out = embed(backbone, images, device)
        with busy_lock:  # the workers add up their times: += is a read and a write, not atomic
            busy[0] += time.perf_counter() - begin
        return out

    def lower_priority():
        if workers > 1 and sys.platform.startswith("linux"):  # per thread on Linux only (elsewhere per process)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKBONE_NICE)

    # The container's frame count sizes the array; a count of more than 9 hours is not trusted that far.
    features, pending, start = Rows(FEATURE_SIZE, min(expected or 1024, 1 << 16)), deque(), time.perf_counter()
    threads = torch.get_num_threads()
    if workers > 1:
        torch.set_num_threads(1)
    batches = ahead(decoded_batches(reader, batch_size, seconds), QUEUED_BATCHES + workers, "decode")
    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="backbone", initializer=lower_priority) as pool, \
                tqdm(total=expected, desc="features", unit="frame", disable=None, leave=False) as progress:
            for batch in itertools.chain(batches, [None]):  # None: the end, where every pending batch is taken
                if batch is not None:
                    pending.append(pool.submit(embed_timed, batch))
                while pending and (batch is None or len(pending) > workers or pending[0].done()):
                    rows = pending.popleft().result().numpy()
                    features.append(rows)
                    progress.update(len(rows))
    finally:
        batches.close()
        torch.set_num_threads(threads)
    seconds["features"], seconds["decode+features"] = busy[0] / workers, time.perf_counter() - start
    return features.array()


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
        The Analysis; a video shorter than one second (MIN_SAMPLES sampled frames) is a UserError.
    """
    reader = VideoReader(video, threads=1 if device.type == "cpu" else 0)
    seconds: dict[str, float] = {}
    features = extract_features(reader, backbone, device, batch_size, seconds)
    timeline = reader.timeline
    if len(features) < MIN_SAMPLES:
        raise UserError(f"{video}: video shorter than {MIN_SAMPLES / SAMPLES_PER_SECOND:g} s ({timeline.n_frames} "
                        f"frames, {timeline.duration:.2f} s; {MIN_SAMPLES} sampled frames are needed)")
    start = time.perf_counter()
    shots = segment(features, timeline.picks, timeline.n_frames, max_shot_seconds, ratio, video)
    seconds["shots"] = time.perf_counter() - start
    return Analysis(features, timeline, shots, seconds)
