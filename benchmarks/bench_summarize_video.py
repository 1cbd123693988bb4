"""Time `inference/summarize_video.py` on generated 720p 30 fps videos (with AAC audio) of a few lengths.

The videos are made cheaply: one minute of twelve panning scenes is encoded once with libx264 (about 3 Mbit/s), then
its packets are copied as often as needed with shifted timestamps. The command runs in a subprocess pinned to
--cores CPU cores, with a CA-SUM checkpoint and a GoogLeNet backbone of random weights (the same work as the ImageNet
weights); the figures are its wall time, the speed against real time, its CPU time and its peak RSS (getrusage of
the child: memory flat in the video's length means the same peak for every length). With --stages, the stages are
also timed in this process on the first length.

Usage: python benchmarks/bench_summarize_video.py [--minutes 10 20] [--cores 2] [--stages] [--keep DIR]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import subprocess
import tempfile
import time
from fractions import Fraction

import av
import numpy as np
import torch

from common.paths import REPO_ROOT
from inference.video.features import random_backbone
from model.layers.summarizer import CA_SUM

WIDTH, HEIGHT, FPS = 1280, 720, 30
SCENES, SCENE_SECONDS = 12, 5
AUDIO_RATE = 44100
PAN = (400, 200)  # canvas margin panned over, in pixels


def canvas(scene):
    """Scene `scene`'s picture, larger than a frame by PAN: a smooth random colour field with fine grain, overlaid
    with a texture of its own (none, checkerboard, stripes, blocks, darkness, diagonals)."""
    rng = np.random.default_rng(scene)
    h, w = HEIGHT + PAN[1], WIDTH + PAN[0]
    coarse = torch.from_numpy(rng.integers(0, 256, (3, 12, 20)).astype(np.float32))[None]
    image = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bicubic")[0].permute(1, 2, 0).numpy()
    yy, xx = np.mgrid[0:h, 0:w]
    kind = scene % 6
    if kind == 1:
        image = image * (((yy // 24 + xx // 24) % 2) * 0.8 + 0.2)[..., None]
    elif kind == 2:
        image = image * ((yy // 16) % 2 * 0.7 + 0.3)[..., None]
    elif kind == 3:
        image = np.kron(rng.integers(0, 256, (h // 32 + 1, w // 32 + 1, 3)), np.ones((32, 32, 1)))[:h, :w]
    elif kind == 4:
        image = image * 0.2
    elif kind == 5:
        image = image * (((yy + xx) // 20) % 2 * 0.6 + 0.4)[..., None]
    return np.clip(image + rng.normal(0, 12, (h, w, 1)), 0, 255).astype(np.uint8)


def write_minute(path):
    """One minute: SCENES scenes of SCENE_SECONDS, each panning over its canvas at its own speed, and a tone."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "crf": "23"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        index = 0
        for scene in range(SCENES):
            image = canvas(scene)
            for t in range(SCENE_SECONDS * FPS):
                x, y = (t * (1 + scene)) % PAN[0], (t // 2) % PAN[1]
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[y:y + HEIGHT, x:x + WIDTH]),
                                                   format="rgb24")
                frame.pts, index = index, index + 1
                out.mux(video.encode(frame))
        out.mux(video.encode(None))
        total = SCENES * SCENE_SECONDS * AUDIO_RATE
        for start in range(0, total, 1024):
            t = np.arange(start, min(start + 1024, total)) / AUDIO_RATE
            wave = (0.2 * np.sin(2 * np.pi * (220 + 110 * (t // SCENE_SECONDS)) * t)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))


def repeat(minute, path, copies):
    """`path`: the packets of `minute` copied `copies` times, timestamps shifted (no re-encoding)."""
    with av.open(str(minute)) as source, av.open(str(path), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams}
        durations = {s.index: s.duration for s in source.streams}
        for copy in range(copies):
            source.seek(0)
            for packet in source.demux():
                if packet.dts is None:
                    continue
                shift = copy * durations[packet.stream.index]
                packet.pts, packet.dts = packet.pts + shift, packet.dts + shift
                packet.stream = streams[packet.stream.index]
                out.mux(packet)


def random_weights(folder):
    """A random GoogLeNet whose features tell the scenes apart (see random_backbone) and a random CA-SUM, saved in
    `folder`."""
    backbone = random_backbone(np.stack([canvas(scene)[:HEIGHT, :WIDTH] for scene in range(SCENES)]))
    torch.save(backbone.state_dict(), folder / "googlenet.pt")
    torch.save(CA_SUM(1024, 1024, 60).state_dict(), folder / "ca_sum.pt")
    return folder / "googlenet.pt", folder / "ca_sum.pt"


def run_command(video, backbone, checkpoint, out_dir, cores):
    """(wall seconds, CPU seconds, peak RSS bytes, last stdout line) of the command, pinned to `cores`."""
    command = [sys.executable, str(REPO_ROOT / "inference" / "summarize_video.py"), str(video),
               "--checkpoint", str(checkpoint), "--backbone_weights", str(backbone), "-o", str(out_dir)]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True,
                                   preexec_fn=lambda: os.sched_setaffinity(0, cores))
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode:
            raise SystemExit(f"summarize_video.py failed: {stderr.read().strip().splitlines()[-1]}")
        line = stdout.read().strip().splitlines()[-1]
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, line


def time_stages(video, backbone_file, checkpoint, out_dir):
    """Seconds of each stage, run here one after the other (decoding alone is timed on its own first)."""
    from inference.checkpoint import load_model
    from inference.video.decode import VideoReader
    from inference.video.encode import frame_runs, write_summary_video
    from inference.video.features import extract_features, load_backbone
    from inference.video.selection import select_shots
    from inference.video.shots import change_points, shot_starts

    stages = {}
    start = time.perf_counter()
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            pass
    stages["decode every frame (reference)"] = time.perf_counter() - start
    start = time.perf_counter()
    reader = VideoReader(video)
    for _ in reader.sampled_frames():
        pass
    stages["decode + sample + resize"] = time.perf_counter() - start
    backbone, model = load_backbone(backbone_file), load_model(checkpoint, input_size=1024)
    reader = VideoReader(video)
    start = time.perf_counter()
    features = extract_features(backbone, reader.sampled_frames())
    stages["decode + features (the command's pass)"] = time.perf_counter() - start
    timeline = reader.timeline
    start = time.perf_counter()
    cps, _ = change_points(shot_starts(features), timeline.picks, timeline.n_frames)
    stages[f"shots (KTS, {len(cps)} shots)"] = time.perf_counter() - start
    start = time.perf_counter()
    scores = model.score_frames(torch.from_numpy(features)).numpy()
    _, selected = select_shots(scores, cps, timeline.n_frames, timeline.picks, 0.15, video)
    stages["CA-SUM scores + knapsack"] = time.perf_counter() - start
    start = time.perf_counter()
    write_summary_video(video, out_dir / "stages.mp4", timeline, frame_runs(cps, selected))
    stages["summary.mp4 (seek, decode, encode)"] = time.perf_counter() - start
    return stages


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=int, nargs="+", default=[10, 20], help="video lengths (default: 10 20)")
    p.add_argument("--cores", type=int, default=2, help="CPU cores the command may use (default: 2)")
    p.add_argument("--stages", action="store_true", help="also time each stage on the first length")
    p.add_argument("--keep", type=Path, default=None, help="keep the generated videos and outputs in this folder")
    args = p.parse_args()
    available = sorted(os.sched_getaffinity(0))
    if len(available) < args.cores:
        raise SystemExit(f"--cores {args.cores}: only {len(available)} cores available")
    cores = set(available[:args.cores])

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        write_minute(folder / "minute.mp4")
        print(f"generated one minute of 720p video in {time.perf_counter() - start:.0f} s")
        backbone, checkpoint = random_weights(folder)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores {sorted(cores)}")
        print(f"{'length':>8} {'wall':>8} {'x real time':>12} {'CPU':>8} {'peak RSS':>10}  summary")
        for minutes in args.minutes:
            video = folder / f"video_{minutes}min.mp4"
            repeat(folder / "minute.mp4", video, minutes)
            wall, cpu, rss, line = run_command(video, backbone, checkpoint, folder / f"out_{minutes}min", cores)
            kept = line.split(": ", 1)[-1].split(" ->")[0]
            print(f"{minutes:>5} min {wall:>7.1f}s {minutes * 60 / wall:>11.1f}x {cpu:>7.1f}s "
                  f"{rss / 2 ** 20:>7.0f} MB  {kept}", flush=True)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.stages:
            os.sched_setaffinity(0, cores)
            video = folder / f"video_{args.minutes[0]}min.mp4"
            for name, seconds in time_stages(video, backbone, checkpoint, folder).items():
                print(f"  {name:<40} {seconds:7.1f}s")


if __name__ == "__main__":
    main()
