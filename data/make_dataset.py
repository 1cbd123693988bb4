"""Generate a SumMe-shaped dataset in the h5 layout of SPEC section 1, and splits in the paper's JSON layout.

The videos have SumMe's frame counts, shots of 1.5 to 10 seconds, and features with shot structure: every frame of a
shot is its shot's non-negative prototype plus noise, like GoogLeNet pool5 averages of a steady scene. The 15 user
summaries each pick about 15% of the frames, favouring the shots of a shared hidden importance. The demo
(`run_summe_splits.sh --demo`) and the tests train and evaluate on it; the numbers it gives mean nothing about real
videos.

    python data/make_dataset.py --out data/demo            # 25 videos, 1024-d, 5 splits
"""
import argparse
import json
import math
import sys
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import fileio  # noqa: E402
from model.errors import run_cli  # noqa: E402

# Frame counts of the 25 SumMe videos, in the order of video_1..video_25 of the benchmark h5 file.
SUMME_FRAMES = [4494, 4729, 3341, 3064, 5131, 5075, 9046, 1286, 4971, 9721, 1612, 950, 3187, 4608, 6096,
                3065, 6683, 3120, 1751, 3863, 9672, 5178, 4382, 2574, 3120]
SAMPLE_STEP = 15  # the benchmark features sample every 15th frame


def shot_bounds(n_frames, rng, fps=30):
    """[n_shots, 2] first and last frame (inclusive) of consecutive shots of 1.5 to 10 seconds covering the video."""
    bounds, start = [], 0
    while start < n_frames:
        end = min(start + int(rng.uniform(1.5, 10) * fps), n_frames) - 1
        if n_frames - 1 - end < 1.5 * fps:  # no sliver of a shot at the end
            end = n_frames - 1
        bounds.append((start, end))
        start = end + 1
    return np.array(bounds, dtype=np.int64)


def user_summaries(bounds, importance, n_users, n_frames, rng, ratio=0.15):
    """[n_users, n_frames] binary rows: each user takes shots by noisy importance until about `ratio` of the frames."""
    lengths = bounds[:, 1] - bounds[:, 0] + 1
    summaries = np.zeros((n_users, n_frames), dtype=np.float32)
    for user in range(n_users):
        taken = 0
        for shot in np.argsort(-(importance + 0.3 * rng.standard_normal(len(bounds)))):
            if taken + lengths[shot] <= ratio * n_frames:
                summaries[user, bounds[shot, 0]:bounds[shot, 1] + 1] = 1
                taken += lengths[shot]
    return summaries


def make_video(group, n_frames, input_size, rng, name, n_users=15):
    """Write one video's datasets into the h5 `group`."""
    bounds = shot_bounds(n_frames, rng)
    picks = np.arange(0, n_frames, SAMPLE_STEP, dtype=np.int64)
    shot_of_pick = np.searchsorted(bounds[:, 1], picks)
    prototypes = np.abs(rng.standard_normal((len(bounds), input_size))) * (rng.random((len(bounds), input_size)) < 0.5)
    noise = 0.3 * np.abs(rng.standard_normal((len(picks), input_size)))
    features = (prototypes[shot_of_pick] + noise).astype(np.float32)
    importance = rng.random(len(bounds))
    gtscore = np.clip(importance[shot_of_pick] + 0.1 * rng.standard_normal(len(picks)), 0, 1).astype(np.float32)
    group["features"] = features
    group["gtscore"] = gtscore
    group["gtsummary"] = (gtscore >= np.quantile(gtscore, 0.85)).astype(np.float32)
    group["user_summary"] = user_summaries(bounds, importance, n_users, n_frames, rng)
    group["change_points"] = bounds
    group["n_frame_per_seg"] = bounds[:, 1] - bounds[:, 0] + 1
    group["n_frames"] = np.int64(n_frames)
    group["picks"] = picks
    group["n_steps"] = np.int64(len(picks))
    group["video_name"] = name


def make_dataset(path, frame_counts=SUMME_FRAMES, input_size=1024, seed=0):
    """Write videos video_1..video_N with the given frame counts to the h5 file `path` (atomically)."""
    rng = np.random.default_rng(seed)
    with fileio.atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            for i, n_frames in enumerate(frame_counts, start=1):
                make_video(h5.create_group(f"video_{i}"), int(n_frames), input_size, rng, f"synthetic_{i}")
    return Path(path)


def make_splits(keys, n_splits=5, test_share=0.2, seed=0):
    """`n_splits` random 80/20 splits in the paper's JSON layout; every video is tested in at least one split."""
    rng = np.random.default_rng(seed)
    keys = list(keys)
    n_test = max(1, math.ceil(test_share * len(keys)))
    order = list(rng.permutation(keys))
    splits = []
    for k in range(n_splits):
        test = [order[(k * n_test + i) % len(keys)] for i in range(n_test)]
        splits.append({"train_keys": sorted(set(keys) - set(test), key=keys.index), "test_keys": sorted(test, key=keys.index)})
    return splits


def main(argv=None):
    p = argparse.ArgumentParser(prog="python data/make_dataset.py",
                                description="Generate a SumMe-shaped dataset (h5) and its 5 splits (JSON).")
    p.add_argument("--out", type=Path, default=Path("data/demo"), help="output folder (default: data/demo)")
    p.add_argument("--videos", type=int, default=len(SUMME_FRAMES),
                   help=f"number of videos, cycling through SumMe's frame counts (default: {len(SUMME_FRAMES)})")
    p.add_argument("--input_size", type=int, default=1024, help="feature width (default: 1024)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = p.parse_args(argv)
    if args.videos < 2 or args.input_size < 1 or args.seed < 0:
        p.error("need --videos >= 2, --input_size >= 1 and --seed >= 0")
    frames = [SUMME_FRAMES[i % len(SUMME_FRAMES)] for i in range(args.videos)]
    h5_path = make_dataset(args.out / "demo_dataset.h5", frames, args.input_size, args.seed)
    splits_path = args.out / "demo_splits.json"
    fileio.write_json(splits_path, make_splits([f"video_{i}" for i in range(1, args.videos + 1)], seed=args.seed), indent=2)
    print(f"wrote {h5_path} ({args.videos} videos, {args.input_size}-d features) and {splits_path}")


if __name__ == "__main__":
    run_cli(main)
