"""Generate a dataset in the benchmark h5 layout (docs/method.md, "Data") and its splits, for the demo, the tests
and the benchmarks: SumMe-shaped (`--kind summe`: SumMe's 25 frame counts, 15 user summaries), TVSum-shaped
(`--kind tvsum`: TVSum's 50 frame counts, 20 user summaries, and frame-level annotations in the layout of
ydata-anno.tsv for the rank correlations), or in Mr.HiSum's layout (`--kind mrhisum`, docs/mrhisum.md: videos of 2 to
8 minutes at one row per second, shots, a peaked gtscore and its 15% knapsack gt_summary, and the train/val/test
split file).

The videos have shots of 1.5 to 10 seconds and features with shot structure: every frame of a shot is its shot's
non-negative prototype plus noise, like GoogLeNet pool5 averages of a steady scene. The users pick about 15% of the
frames, favouring the shots of a shared hidden importance. The numbers it gives mean nothing about real videos.

    python data/make_dataset.py --out data/demo/SumMe                  # 25 videos, 1024-d, 5 splits
    python data/make_dataset.py --kind tvsum --out data/demo/TVSum     # 50 videos, + demo_anno.tsv
    python data/make_dataset.py --kind mrhisum --videos 1000 --out data/synthetic_mrhisum
"""
import argparse
import math
import sys
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import fileio
from common.datasets import SAMPLE_STEP
from common.errors import run_cli
from common.paths import DEMO_DATA_DIR, DEMO_H5, DEMO_SPLITS, demo_dataset_files

# Frame counts of the benchmark videos, in the order of video_1, video_2, ... of their h5 files.
SUMME_FRAMES = [4494, 4729, 3341, 3064, 5131, 5075, 9046, 1286, 4971, 9721, 1612, 950, 3187, 4608, 6096,
                3065, 6683, 3120, 1751, 3863, 9672, 5178, 4382, 2574, 3120]
TVSUM_FRAMES = [10597, 4688, 14019, 7210, 3327, 9671, 4468, 9870, 7010, 3995, 4700, 13511, 3532, 4853, 4324, 9534,
                5846, 9731, 5742, 6241, 19406, 5661, 5631, 4356, 6580, 3312, 10917, 8281, 17527, 4005, 5412, 3802,
                13365, 3705, 4463, 7959, 4009, 2941, 4165, 11414, 8073, 5939, 4931, 4304, 2500, 15307, 4740, 3896,
                5971, 6912]
KINDS = {"summe": (SUMME_FRAMES, 15), "tvsum": (TVSUM_FRAMES, 20), "mrhisum": (None, 0)}  # frame counts, users
ANNOTATION_SEGMENT = 60  # TVSum's annotators scored 2-second segments (60 frames at 30 fps)
# The demo: small enough for a few minutes on 2 cores, long enough for the selection window from epoch 20.
DEMO = {"SumMe": {"kind": "summe", "videos": 25, "input_size": 256, "splits": 2},
        "TVSum": {"kind": "tvsum", "videos": 20, "input_size": 256, "splits": 2},
        "MrHiSum": {"kind": "mrhisum", "videos": 64, "input_size": 256, "splits": 1}}


def shot_bounds(n_frames: int, rng: np.random.Generator, fps: int = 30) -> np.ndarray:
    """[n_shots, 2] first and last frame (inclusive) of consecutive shots of 1.5 to 10 seconds covering the video."""
    bounds, start = [], 0
    while start < n_frames:
        end = min(start + int(rng.uniform(1.5, 10) * fps), n_frames) - 1
        if n_frames - 1 - end < 1.5 * fps:  # no sliver of a shot at the end
            end = n_frames - 1
        bounds.append((start, end))
        start = end + 1
    return np.array(bounds, dtype=np.int64)


def user_summaries(bounds: np.ndarray, taste: np.ndarray, n_frames: int, ratio: float = 0.15) -> np.ndarray:
    """[n_users, n_frames] binary rows: each user takes shots by their own importance `taste` [n_users, n_shots]
    until about `ratio` of the frames."""
    lengths = bounds[:, 1] - bounds[:, 0] + 1
    summaries = np.zeros((len(taste), n_frames), dtype=np.float32)
    for user, values in enumerate(taste):
        taken = 0
        for shot in np.argsort(-values):
            if taken + lengths[shot] <= ratio * n_frames:
                summaries[user, bounds[shot, 0]:bounds[shot, 1] + 1] = 1
                taken += lengths[shot]
    return summaries


def frame_annotations(bounds: np.ndarray, taste: np.ndarray, n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """[n_users, n_frames] importance scores 1..5 as TVSum's annotators gave them: one score per 2-second segment,
    following the user's importance of the segment's shot."""
    starts = np.arange(0, n_frames, ANNOTATION_SEGMENT)
    shot_of_segment = np.searchsorted(bounds[:, 1], starts)
    noisy = taste[:, shot_of_segment] + 0.15 * rng.standard_normal((len(taste), len(starts)))
    scores = np.clip(np.rint(1 + 4 * noisy), 1, 5)
    return np.repeat(scores, ANNOTATION_SEGMENT, axis=1)[:, :n_frames]


def shot_features(n_frames: int, input_size: int, rng: np.random.Generator,
                  noise: float = 0.3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A video's shots (shot_bounds), its picks (every SAMPLE_STEP-th frame) and their float32 features [n_picks,
    input_size]: each its shot's sparse non-negative prototype plus `noise` times |N(0, 1)|."""
    bounds = shot_bounds(n_frames, rng)
    picks = np.arange(0, n_frames, SAMPLE_STEP, dtype=np.int64)
    shot_of_pick = np.searchsorted(bounds[:, 1], picks)
    prototypes = np.abs(rng.standard_normal((len(bounds), input_size))) * (rng.random((len(bounds), input_size)) < 0.5)
    spread = noise * np.abs(rng.standard_normal((len(picks), input_size)))
    return bounds, picks, (prototypes[shot_of_pick] + spread).astype(np.float32)


def make_video(group: h5py.Group, n_frames: int, input_size: int, rng: np.random.Generator, name: str,
               n_users: int = 15) -> np.ndarray:
    """Write one video's datasets into the h5 `group`; returns the users' shot importance [n_users, n_shots]."""
    bounds, picks, features = shot_features(n_frames, input_size, rng)
    shot_of_pick = np.searchsorted(bounds[:, 1], picks)
    importance = rng.random(len(bounds))
    gtscore = np.clip(importance[shot_of_pick] + 0.1 * rng.standard_normal(len(picks)), 0, 1).astype(np.float32)
    taste = np.stack([importance + 0.3 * rng.standard_normal(len(bounds)) for _ in range(n_users)])
    group["features"] = features
    group["gtscore"] = gtscore
    group["gtsummary"] = (gtscore >= np.quantile(gtscore, 0.85)).astype(np.float32)
    group["user_summary"] = user_summaries(bounds, taste, n_frames)
    group["change_points"] = bounds
    group["n_frame_per_seg"] = bounds[:, 1] - bounds[:, 0] + 1
    group["n_frames"] = np.int64(n_frames)
    group["picks"] = picks
    group["n_steps"] = np.int64(len(picks))
    group["video_name"] = name
    return taste


def make_dataset(path: Path, frame_counts: list[int] = SUMME_FRAMES, input_size: int = 1024, seed: int = 0,
                 n_users: int = 15, annotations: Path | None = None) -> Path:
    """Write videos video_1..video_N with the given frame counts to the h5 file `path` (atomically); with
    `annotations`, also their frame-level scores in the layout of TVSum's ydata-anno.tsv."""
    rng = np.random.default_rng(seed)
    rows = []
    with fileio.atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            for i, n_frames in enumerate(frame_counts, start=1):
                taste = make_video(h5.create_group(f"video_{i}"), int(n_frames), input_size, rng, f"synthetic_{i}",
                                   n_users)
                if annotations is not None:
                    bounds = h5[f"video_{i}"]["change_points"][()]
                    for user in frame_annotations(bounds, taste, int(n_frames), rng):
                        rows.append(f"synthetic_{i}\tdemo\t{','.join(str(int(v)) for v in user)}\n")
    if annotations is not None:
        fileio.write_text(annotations, "".join(rows))
    return Path(path)


def peaked_importance(n_rows: int, rng: np.random.Generator) -> np.ndarray:
    """A Most-Replayed-like importance in [0, 1]: a low floor and a few peaks of a few seconds to a minute."""
    t = np.arange(n_rows)
    y = 0.05 * rng.random(n_rows)
    for _ in range(int(rng.integers(1, 5))):
        width = rng.uniform(2, max(3, n_rows / 8))
        y += rng.uniform(0.3, 1.0) * np.exp(-0.5 * ((t - rng.uniform(0, n_rows)) / width) ** 2)
    y -= y.min()
    return y / y.max()


def make_mrhisum_video(group: h5py.Group, n_rows: int, input_size: int, rng: np.random.Generator) -> None:
    """Write one video in Mr.HiSum's layout: features [T, D] (one row per second, with shot structure), gtscore [T],
    change_points [S, 2] as Mr.HiSum stores them (consecutive shots sharing their boundaries, [0, c1], [c1, c2], ...,
    [ck, T]) and gt_summary [T], the 15% knapsack summary of gtscore (evaluation/mrhisum.py)."""
    from evaluation.mrhisum import MrHiSumVideo, predicted_summary
    bounds = [0]
    while bounds[-1] + 4 < n_rows:
        bounds.append(min(n_rows, bounds[-1] + int(rng.integers(2, 16))))
    if bounds[-1] != n_rows:
        bounds.append(n_rows)
    cps = np.stack([bounds[:-1], bounds[1:]], axis=1).astype(np.int64)
    shot_of_row = np.minimum(np.searchsorted(cps[:, 1], np.arange(n_rows), side="right"), len(cps) - 1)
    prototypes = rng.standard_normal((len(cps), input_size)).astype(np.float32)
    features = prototypes[shot_of_row] + 0.3 * rng.standard_normal((n_rows, input_size)).astype(np.float32)
    gtscore = peaked_importance(n_rows, rng)
    video = MrHiSumVideo("", n_rows, cps, gtscore.astype(np.float32), np.zeros(0, dtype=np.int64), [], [])
    group["features"] = features
    group["gtscore"] = gtscore
    group["change_points"] = cps
    group["gt_summary"] = predicted_summary(gtscore, video).astype(np.float32)


def make_mrhisum(path: Path, n_videos: int, input_size: int = 1024, seed: int = 0) -> Path:
    """Write videos video_1..video_N of 2 to 8 minutes in Mr.HiSum's layout to the h5 file `path` (atomically)."""
    rng = np.random.default_rng(seed)
    with fileio.atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            for i in range(1, n_videos + 1):
                make_mrhisum_video(h5.create_group(f"video_{i}"), int(rng.integers(120, 481)), input_size, rng)
    return Path(path)


def mrhisum_split(keys: list[str], seed: int = 0) -> dict[str, list[str]]:
    """A train/val/test split in Mr.HiSum's proportions (27,892 / 2,000 / 2,000 of 31,892), at least one video each."""
    order = list(np.random.default_rng(seed).permutation(keys))
    n_held = max(1, round(len(keys) * 2000 / 31892))
    return {"train_keys": order[2 * n_held:], "val_keys": order[:n_held], "test_keys": order[n_held:2 * n_held]}


def make_splits(keys: list[str], n_splits: int = 5, test_share: float = 0.2, seed: int = 0) -> list[dict]:
    """`n_splits` random 80/20 splits in the paper's JSON layout; every video is tested in at least one split when
    there are enough splits."""
    rng = np.random.default_rng(seed)
    keys = list(keys)
    n_test = max(1, math.ceil(test_share * len(keys)))
    order = list(rng.permutation(keys))
    splits = []
    for k in range(n_splits):
        test = [order[(k * n_test + i) % len(keys)] for i in range(n_test)]
        splits.append({"train_keys": sorted(set(keys) - set(test), key=keys.index),
                       "test_keys": sorted(test, key=keys.index)})
    return splits


def write(out: Path, kind: str = "summe", videos: int | None = None, input_size: int = 1024, seed: int = 0,
          n_splits: int = 5) -> tuple[Path, Path]:
    """{out}/demo_dataset.h5 and {out}/demo_splits.json (and {out}/demo_anno.tsv for TVSum); returns the first two."""
    frames, n_users = KINDS[kind]
    keys = [f"video_{i}" for i in range(1, (videos or len(frames or ())) + 1)]
    if kind == "mrhisum":
        h5_path = make_mrhisum(out / DEMO_H5, len(keys), input_size, seed)
        splits_path = out / DEMO_SPLITS
        fileio.write_json(splits_path, mrhisum_split(keys, seed), indent=1)
        return h5_path, splits_path
    videos = videos or len(frames)
    counts = [frames[i % len(frames)] for i in range(videos)]
    anno = out / "demo_anno.tsv" if kind == "tvsum" else None
    h5_path = make_dataset(out / DEMO_H5, counts, input_size, seed, n_users, anno)
    splits_path = out / DEMO_SPLITS
    fileio.write_json(splits_path, make_splits(keys, n_splits, seed=seed), indent=2)
    return h5_path, splits_path


def demo_files(video_type: str) -> tuple[Path, Path, Path | None]:
    """The demo dataset of a dataset's shape: (h5, splits, annotations or None) under data/demo/{video_type}/."""
    h5, splits = demo_dataset_files(video_type, DEMO_DATA_DIR)
    anno = h5.parent / "demo_anno.tsv" if DEMO[video_type]["kind"] == "tvsum" else None
    return h5, splits, anno


def make_demo(video_type: str) -> None:
    """Generate the demo dataset of `video_type` (see DEMO)."""
    d = DEMO[video_type]
    write(DEMO_DATA_DIR / video_type, d["kind"], d["videos"], d["input_size"], n_splits=d["splits"])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python data/make_dataset.py",
                                description="Generate a SumMe-, TVSum- or Mr.HiSum-shaped dataset (h5) and its splits.")
    p.add_argument("--kind", choices=tuple(KINDS), default="summe", help="shape of the dataset (default: summe)")
    p.add_argument("--out", type=Path, default=DEMO_DATA_DIR, help="output folder (default: data/demo)")
    p.add_argument("--videos", type=int, default=None,
                   help="number of videos, cycling through the dataset's frame counts (default: all of them)")
    p.add_argument("--input_size", type=int, default=1024, help="feature width (default: 1024)")
    p.add_argument("--splits", type=int, default=5, help="number of 80/20 splits (default: 5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = p.parse_args(argv)
    if (args.videos is not None and args.videos < 2) or args.input_size < 1 or args.seed < 0 or args.splits < 1:
        p.error("need --videos >= 2, --input_size >= 1, --splits >= 1 and --seed >= 0")
    if args.kind == "mrhisum" and args.videos is None:
        p.error("--kind mrhisum needs --videos N")
    h5_path, splits_path = write(args.out, args.kind, args.videos, args.input_size, args.seed, args.splits)
    extra = f", {args.out / 'demo_anno.tsv'}" if args.kind == "tvsum" else ""
    print(f"wrote {h5_path} ({args.videos or len(KINDS[args.kind][0])} videos, {args.input_size}-d features), "
          f"{splits_path}{extra}")


if __name__ == "__main__":
    run_cli(main)
