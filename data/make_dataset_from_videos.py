"""A training set from your own videos, in the benchmark h5 layout (docs/method.md, "Data"; docs/video.md):

    python data/make_dataset_from_videos.py VIDEO_OR_FOLDER... --out my.h5 [--splits_out my_splits.json]
        [--annotations ANN.csv] [--backbone_weights PATH | --random_backbone] [--device auto|cpu|cuda]

Each video becomes a group video_1, video_2, ... with features, picks, n_frames, n_steps, change_points,
n_frame_per_seg and video_name, the features and shots made exactly as inference/summarize_video.py makes them
(inference/video/analysis.py); with --annotations (CSV video,annotator,start_seconds,end_seconds), also
user_summary and gtscore. Then --splits_out gets 5 seeded 80/20 splits of every video in the file. Resumable: videos
already in the file (by name) are skipped, and the file is replaced whole after each video, never left half-written.
A video that fails (unreadable, or without rows in the annotations) is reported in one line and the others go on;
the command then exits non-zero. The files named are checked before PyTorch loads. With --random_backbone (to try
the pipeline offline) the file's `backbone` attribute is "random": its features mean nothing. Then:

    python model/main.py --dataset_file my.h5 --splits_file my_splits.json --split_index 0 ...
"""
import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.video.memory import limit_malloc_arenas

limit_malloc_arenas()  # before torch and FFmpeg start their threads

import h5py

from common import fileio
from common.cli import bounded
from common.datasets import SUMMARY_RATIO  # the evaluation's budget: shots are cut so that one fits it
from common.degenerate import RANDOM_BACKBONE, feature_warning
from common.errors import UserError, run_cli, warn
from common.h5data import open_h5
from common.numbers import plural
from data.make_dataset import make_splits
from inference.video.annotations import Annotations
from inference.video.inputs import find_videos
from inference.video.options import add_analysis_arguments, check_backbone_weights

INTERRUPTED = "interrupted: run the same command again to continue (videos already in the file are skipped)"
RANDOM_WARNING = ("--random_backbone: the features come from a GoogLeNet of random weights, so the dataset, and any "
                  "model trained on it, mean nothing; for trying the pipeline offline only (docs/video.md, "
                  "\"Offline\")")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python data/make_dataset_from_videos.py",
                                description="Build a dataset h5 (benchmark layout) and its splits from videos.")
    p.add_argument("inputs", type=Path, nargs="+", metavar="VIDEO_OR_FOLDER",
                   help="video files and folders of videos (found by extension, sorted)")
    p.add_argument("--out", type=Path, required=True, metavar="H5", help="the dataset file (added to if it exists)")
    p.add_argument("--splits_out", type=Path, default=None, metavar="JSON",
                   help="the splits file (default: {out stem}_splits.json beside --out)")
    p.add_argument("--annotations", type=Path, default=None, metavar="CSV",
                   help="CSV video,annotator,start_seconds,end_seconds: one row per selected interval")
    p.add_argument("--splits", type=bounded(int, 1, what="splits"), default=5, help="number of 80/20 splits (5)")
    p.add_argument("--seed", type=bounded(int, 0, what="seed"), default=0, help="seed of the splits (default: 0)")
    add_analysis_arguments(p)
    return p


def existing_videos(path: Path, random_backbone: bool) -> dict[str, str]:
    """{video_name: group key} of the dataset file `path` (empty when there is no file yet); a file whose features
    come from another kind of backbone (random or not, its `backbone` attribute) is refused: one dataset, one
    backbone."""
    if not path.exists():
        return {}
    with open_h5(path) as h5:
        if h5.attrs.get("backbone") == RANDOM_BACKBONE and not random_backbone:
            raise UserError(f"{path}: its features come from --random_backbone and mean nothing; use another --out")
        if h5.attrs.get("backbone") != RANDOM_BACKBONE and random_backbone and len(h5):
            raise UserError(f"{path}: its features come from the ImageNet backbone, not --random_backbone; use "
                            f"another --out")
        names = {}
        for key, group in h5.items():
            name = group.get("video_name") if isinstance(group, h5py.Group) else None
            if name is None:
                raise UserError(f"{path}: {key}: no video_name: not a file this command wrote; use another --out")
            value = name[()]
            names[value.decode() if isinstance(value, bytes) else str(value)] = key
        return names


def next_key(keys: list[str]) -> str:
    """video_{n} with n one past the largest n used."""
    numbers = [int(k[6:]) for k in keys if k.startswith("video_") and k[6:].isdigit()]
    return f"video_{max(numbers, default=0) + 1}"


def add_video(path: Path, video_name: str, fill, random_backbone: bool = False) -> str:
    """Add a group to the dataset file `path` atomically (a copy gets the group, then replaces the file); `fill`
    writes the group's datasets. A file of random-backbone features says so in its `backbone` attribute. Returns
    the group's key."""
    with fileio.atomic_path(path) as tmp:
        if path.exists():
            shutil.copyfile(path, tmp)
        with h5py.File(tmp, "a") as h5:
            if random_backbone:
                h5.attrs["backbone"] = RANDOM_BACKBONE
            key = next_key(list(h5.keys()))
            fill(h5.create_group(key))
    return key


def check_names(videos: list[Path]) -> None:
    """Videos are told apart by file name (video_name, the annotations): two of the same name are refused."""
    seen = {}
    for video in videos:
        if video.name in seen:
            raise UserError(f"{video}: another video has the same name ({seen[video.name]}); rename one of them")
        seen[video.name] = video


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    splits_out = args.splits_out or args.out.with_name(f"{args.out.stem}_splits.json")
    videos = find_videos(args.inputs)
    check_names(videos)
    check_backbone_weights(args)
    annotations = Annotations(args.annotations) if args.annotations is not None else None
    if annotations is not None:
        annotations.check_rows(videos)
    done = existing_videos(args.out, args.random_backbone)
    # PyTorch and FFmpeg take seconds to import, more on a busy machine: the files are checked first
    from inference.video.analysis import analyse, backbone_batch_size
    from inference.video.batch import run_batch
    from inference.video.dataset import write_group
    from inference.video.decode import VideoReader
    from inference.video.features import load_backbone, weights_warning
    from model.device import numerics, resolve_device

    device = resolve_device(args.device)
    todo = any(v.name not in done for v in videos)
    backbone_warning = RANDOM_WARNING if args.random_backbone else weights_warning(args.backbone_weights)
    if backbone_warning:
        warn(backbone_warning)
    backbone = load_backbone(args.backbone_weights, device, args.random_backbone) if todo else None
    batch_size = backbone_batch_size(args.batch_size, device)

    def work(video: Path) -> list[str]:
        if video.name in done:
            return [f"{video}: already in {args.out} as {done[video.name]}, skipped"]
        if annotations is not None and not annotations.rows_of(video):
            VideoReader(video)  # a video that cannot be read is reported as such, not as one without annotations
            raise UserError(f"{annotations.path}: no rows for video {video.name} (every video needs its annotations)")
        analysis = analyse(video, backbone, device, batch_size, args.max_shot_seconds, SUMMARY_RATIO)
        warning = feature_warning(analysis.features, video)
        if warning:
            warn(warning)
        timeline = analysis.timeline
        users = None if annotations is None else annotations.user_summary(video, timeline.seconds,
                                                                          timeline.n_frames)
        key = add_video(args.out, video.name, lambda group: write_group(group, video.name, analysis, users),
                        args.random_backbone)
        done[video.name] = key
        annotated = f", {plural(len(users), 'annotator')}" if users is not None else ""
        cut = analysis.shots.cut_text(args.max_shot_seconds)
        return [f"{video}: {key}, {len(analysis.features)} sampled frames, {len(analysis.shots.change_points)} "
                f"shots{annotated}"] + ([f"  {cut}"] if cut else [])

    failure = None
    try:
        with numerics(device, args.tf32):
            run_batch(videos, work)
    except UserError as e:
        failure = e
    keys = sorted(done.values(), key=lambda k: int(k[6:]) if k[6:].isdigit() else 0)
    if len(keys) >= 2:
        fileio.write_json(splits_out, make_splits(keys, args.splits, seed=args.seed), indent=2)
        print(f"wrote {args.out} ({len(keys)} videos) and {splits_out} ({args.splits} splits, 80/20)")
    elif keys:
        print(f"wrote {args.out} (1 video); no {splits_out}: splits need at least 2 videos (run again with more)")
    if backbone_warning:
        warn(backbone_warning)  # again after the videos' lines
    if failure is not None:
        raise failure


if __name__ == "__main__":
    run_cli(main, INTERRUPTED)
