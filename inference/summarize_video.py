"""Summarize your own videos with a CA-SUM checkpoint:

    python inference/summarize_video.py VIDEO_OR_FOLDER... --checkpoint CKPT [-o OUT] [--summary_ratio 0.15]

Frames are sampled two per second and described by GoogLeNet pool5 features, like the benchmark datasets; shots
come from kernel temporal segmentation of those features, long ones cut (--max_shot_seconds); CA-SUM scores the
sampled frames and the benchmark's knapsack keeps the best shots within the budget. Each video's folder receives
summary.mp4, summary.json, summary.html, importance.png and, with --save_h5, dataset.h5, all together at the end
or none. One video goes to OUT (default: `{stem}_summary/` next to it); several, or a folder, to OUT/{stem}/. The
backbone and the checkpoint are loaded once; a video whose outputs are complete is skipped, so an interrupted batch
continues where it stopped; a video that fails is reported and the others go on (docs/video.md).
"""
import argparse
import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.video.memory import limit_malloc_arenas

limit_malloc_arenas()  # before torch and FFmpeg start their threads

import numpy as np
import torch

from common import fileio
from common.cli import bounded
from common.errors import run_cli
from inference.video.analysis import add_analysis_arguments, analyse, backbone_batch_size
from inference.video.batch import run_batch
from inference.video.dataset import write_dataset_h5
from inference.video.encode import DEFAULT_PRESET, PRESETS, frame_runs, write_summary_video
from inference.video.features import load_backbone
from inference.video.googlenet import FEATURE_SIZE
from inference.video.inputs import find_videos, output_folders
from inference.video.page import summary_page
from inference.video.plot import plot_importance
from inference.video.report import summary_record
from inference.video.selection import select_shots
from model.checkpoints import load_model
from model.device import numerics, resolve_device

OUTPUTS = ("summary.mp4", "summary.json", "summary.html", "importance.png")
INTERRUPTED = "interrupted: run the same command again to continue (finished videos are skipped)"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python inference/summarize_video.py",
                                description="Summarize videos with a CA-SUM checkpoint (released or trained).")
    p.add_argument("inputs", type=Path, nargs="+", metavar="VIDEO_OR_FOLDER",
                   help="video files (anything FFmpeg reads) and folders of videos (found by extension, sorted)")
    p.add_argument("--checkpoint", type=Path, required=True, metavar="CKPT", help="CA-SUM state_dict (.pt/.pth)")
    p.add_argument("-o", "--out_dir", type=Path, default=None, metavar="OUT",
                   help="output folder: one video's outputs, or OUT/{stem}/ for each of several videos "
                        "(default: {stem}_summary/ next to each video)")
    p.add_argument("--summary_ratio", type=bounded(float, 0, 1, low_open=True, what="summary_ratio"), default=0.15,
                   metavar="R",
                   help="largest share of the video's frames the summary may hold (default: 0.15, the benchmark's)")
    add_analysis_arguments(p)
    p.add_argument("--block_size", type=bounded(int, 1, what="block_size"), default=60, metavar="N",
                   help="CA-SUM attention block size (default: 60, as in training)")
    p.add_argument("--x264_preset", choices=PRESETS, default=DEFAULT_PRESET, metavar="PRESET",
                   help=f"libx264 preset of summary.mp4: {', '.join(PRESETS)}; slower ones make smaller files "
                        f"(default: {DEFAULT_PRESET}, the fastest)")
    p.add_argument("--save_h5", action="store_true",
                   help="also write dataset.h5: the video as one group of the training data layout")
    p.add_argument("--overwrite", action="store_true", help="summarize again videos whose outputs are complete")
    return p


def settings(args: argparse.Namespace, video: Path) -> dict:
    """What summary.json records of the command's choices: a finished video with the same ones is skipped."""
    return {"video": str(video.resolve()), "checkpoint": str(args.checkpoint.resolve()),
            "summary_ratio": float(args.summary_ratio), "max_shot_seconds": float(args.max_shot_seconds)}


def is_complete(out_dir: Path, wanted: dict, save_h5: bool) -> bool:
    """Whether `out_dir` holds every output of a summary made with the settings `wanted`."""
    names = OUTPUTS + (("dataset.h5",) if save_h5 else ())
    if not all((out_dir / name).is_file() for name in names):
        return False
    try:
        record = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and all(record.get(key) == value for key, value in wanted.items())


class Summarizer:
    """The backbone and the CA-SUM model, loaded once, and the summary of one video at a time."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.device = resolve_device(args.device)
        self.batch_size = backbone_batch_size(args.batch_size, self.device)
        self.model = load_model(args.checkpoint, device=self.device, block_size=args.block_size,
                                input_size=FEATURE_SIZE)
        self.backbone = load_backbone(args.backbone_weights, self.device)

    def __call__(self, video: Path, out_dir: Path) -> list[str]:
        """Summarize `video` into `out_dir`; returns the lines to print.

        Args:
            video: the video file.
            out_dir: its output folder.
        Returns:
            What was done: the shots kept, whether shots were cut, the seconds of each stage.
        """
        args, started = self.args, time.perf_counter()
        wanted = settings(args, video)
        if not args.overwrite and is_complete(out_dir, wanted, args.save_h5):
            return [f"{video}: already summarized in {out_dir}, skipped (--overwrite to redo)"]
        analysis = analyse(video, self.backbone, self.device, self.batch_size, args.max_shot_seconds,
                           args.summary_ratio)
        timeline, shots, seconds = analysis.timeline, analysis.shots, analysis.seconds
        start = time.perf_counter()
        scores = self.model.score_frames(torch.from_numpy(analysis.features).to(self.device)).cpu().numpy()
        shot_scores, selected = select_shots(scores, shots.change_points, timeline.n_frames, timeline.picks,
                                             args.summary_ratio)
        seconds["scores"] = time.perf_counter() - start
        record = summary_record(wanted["video"], wanted["checkpoint"], args.summary_ratio, args.max_shot_seconds,
                                timeline, shots, shot_scores, selected, scores)

        with ExitStack() as outputs:
            paths = {name: outputs.enter_context(fileio.atomic_path(out_dir / name)) for name in OUTPUTS}
            start = time.perf_counter()
            write_summary_video(video, paths["summary.mp4"], timeline, frame_runs(shots.change_points, selected),
                                args.x264_preset)
            seconds["encode"] = time.perf_counter() - start
            plot_importance(paths["importance.png"], f"{video.name}: CA-SUM importance", record["sampled_sec"],
                            scores, record["shots"], timeline.duration)
            paths["summary.json"].write_text(json.dumps(record, indent=1), encoding="utf-8")
            paths["summary.html"].write_text(summary_page(record, out_dir, video), encoding="utf-8")
            if args.save_h5:
                write_dataset_h5(outputs.enter_context(fileio.atomic_path(out_dir / "dataset.h5")), video.name,
                                 analysis)
        seconds["total"] = time.perf_counter() - started
        kept = int(shots.n_frame_per_seg[selected].sum())
        lines = [f"{video}: {int(selected.sum())} of {len(selected)} shots, {kept} of {timeline.n_frames} frames "
                 f"({kept / timeline.n_frames:.1%}) -> {out_dir}"]
        if shots.n_cut:
            budget = (f" and at most {int(args.summary_ratio * timeline.n_frames)} frames to fit the budget"
                      if shots.budget_cut else "")
            lines.append(f"  cut {shots.n_cut} long KTS shot{'s' * (shots.n_cut > 1)} into {int(np.sum(shots.cut))} "
                         f"parts of at most {args.max_shot_seconds:g} s{budget}")
        lines.append("  seconds: " + ", ".join(f"{name} {value:.1f}" for name, value in seconds.items()))
        return lines


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    videos = find_videos(args.inputs)
    batch = len(videos) > 1 or any(path.is_dir() for path in args.inputs)
    folders = dict(zip(videos, output_folders(videos, args.out_dir, batch)))
    summarizer = Summarizer(args)
    with numerics(summarizer.device, args.tf32):
        run_batch(videos, lambda video: summarizer(video, folders[video]))


if __name__ == "__main__":
    run_cli(main, INTERRUPTED)
