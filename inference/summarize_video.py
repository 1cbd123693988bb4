"""Summarize your own video with a CA-SUM checkpoint:

    python inference/summarize_video.py VIDEO --checkpoint CKPT [-o OUT_DIR] [--summary_ratio 0.15]

Frames are sampled two per second and described by GoogLeNet pool5 features, like the benchmark datasets; shots
come from kernel temporal segmentation of those features; CA-SUM scores the sampled frames and the benchmark's
knapsack keeps the best shots within the budget. OUT_DIR (default: `{video stem}_summary/` next to the video)
receives summary.mp4, summary.json, importance.png and, with --save_h5, dataset.h5. All of them appear together at
the end, or none does.
"""
import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.video.memory import limit_malloc_arenas

limit_malloc_arenas()  # before torch and FFmpeg start their threads

import torch

from common import fileio
from common.cli import DEVICES, bounded
from common.errors import UserError, run_cli
from inference.video.dataset import write_dataset_h5
from inference.video.decode import SAMPLES_PER_SECOND, VideoReader
from inference.video.encode import frame_runs, write_summary_video
from inference.video.features import FEATURE_SIZE, extract_features, load_backbone
from inference.video.plot import plot_importance
from inference.video.report import summary_record
from inference.video.selection import select_shots
from inference.video.shots import MIN_SHOT, change_points, shot_starts
from model.checkpoints import load_model
from model.configs import resolve_device


def build_parser():
    p = argparse.ArgumentParser(prog="python inference/summarize_video.py",
                                description="Summarize a video with a CA-SUM checkpoint (released or trained).")
    p.add_argument("video", type=Path, help="the video file (anything FFmpeg reads)")
    p.add_argument("--checkpoint", type=Path, required=True, metavar="CKPT", help="CA-SUM state_dict (.pt/.pth)")
    p.add_argument("-o", "--out_dir", type=Path, default=None, metavar="OUT_DIR",
                   help="output folder (default: {video stem}_summary/ next to the video)")
    p.add_argument("--summary_ratio", type=bounded(float, 0, 1, low_open=True, what="summary_ratio"), default=0.15,
                   metavar="R",
                   help="largest share of the video's frames the summary may hold (default: 0.15, the benchmark's)")
    p.add_argument("--backbone_weights", type=Path, default=None, metavar="PATH",
                   help="local state_dict of torchvision's ImageNet GoogLeNet (googlenet-1378be20.pth); "
                        "default: torchvision's download (or its cache)")
    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="auto uses CUDA when available (default: auto)")
    p.add_argument("--batch_size", type=bounded(int, 1, what="batch_size"), default=None, metavar="N",
                   help="frames per backbone batch (default: 8 on CPU, 64 on CUDA)")
    p.add_argument("--block_size", type=bounded(int, 1, what="block_size"), default=60, metavar="N",
                   help="CA-SUM attention block size (default: 60, as in training)")
    p.add_argument("--save_h5", action="store_true",
                   help="also write dataset.h5: the video as one group of the training data layout")
    return p


def summarize(args):
    """Run the whole pipeline; returns the output folder."""
    video = args.video
    out_dir = args.out_dir if args.out_dir is not None else video.parent / f"{video.stem}_summary"
    device = resolve_device(args.device)
    batch_size = args.batch_size or (64 if device.type == "cuda" else 8)

    reader = VideoReader(video)
    model = load_model(args.checkpoint, device=device, block_size=args.block_size, input_size=FEATURE_SIZE)
    backbone = load_backbone(args.backbone_weights, device)

    expected = None if reader.expected_frames is None or not reader.fps else int(
        reader.expected_frames / reader.fps * SAMPLES_PER_SECOND) + 1
    features = extract_features(backbone, reader.sampled_frames(), device, batch_size, expected)
    timeline = reader.timeline
    if len(features) < MIN_SHOT:
        raise UserError(f"{video}: video shorter than one shot ({timeline.n_frames} frames, {timeline.duration:.2f} s; "
                        f"a shot is at least {MIN_SHOT / SAMPLES_PER_SECOND:g} s)")

    cps, n_frame_per_seg = change_points(shot_starts(features), timeline.picks, timeline.n_frames)
    scores = model.score_frames(torch.from_numpy(features).to(device)).cpu().numpy()
    shot_scores, selected = select_shots(scores, cps, timeline.n_frames, timeline.picks, args.summary_ratio, video)
    record = summary_record(video.resolve(), args.checkpoint.resolve(), args.summary_ratio, timeline, cps,
                            shot_scores, selected, scores)

    with ExitStack() as outputs:
        mp4 = outputs.enter_context(fileio.atomic_path(out_dir / "summary.mp4"))
        png = outputs.enter_context(fileio.atomic_path(out_dir / "importance.png"))
        json_file = outputs.enter_context(fileio.atomic_path(out_dir / "summary.json"))
        write_summary_video(video, mp4, timeline, frame_runs(cps, selected))
        plot_importance(png, f"{video.name}: CA-SUM importance, selected shots shaded",
                        timeline.seconds[timeline.picks], scores, record["shots"], timeline.duration)
        json_file.write_text(json.dumps(record, indent=1))
        if args.save_h5:
            h5 = outputs.enter_context(fileio.atomic_path(out_dir / "dataset.h5"))
            write_dataset_h5(h5, video.name, features, timeline, cps, n_frame_per_seg)
    kept = int(sum(last - first + 1 for (first, last), keep in zip(cps.tolist(), selected) if keep))
    print(f"{video}: {int(selected.sum())} of {len(cps)} shots, {kept} of {timeline.n_frames} frames "
          f"({kept / timeline.n_frames:.1%}) -> {out_dir}")
    return out_dir


def main(argv=None):
    return summarize(build_parser().parse_args(argv))


if __name__ == "__main__":
    run_cli(main)
