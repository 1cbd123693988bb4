"""The summary of one video at a time, the backbone and the CA-SUM model loaded once (inference/summarize_video.py;
docs/video.md): the analysis, the scores, the shots kept, and the outputs, written all together or not at all.

A summary that means nothing says so loudly, on the terminal and in summary.json, summary.html and importance.png:
made with a random backbone (--random_backbone), with weights that are not torchvision's ImageNet file, or from
features or scores that are the same at every frame (common/degenerate.py).
"""
import argparse
import json
import time
from contextlib import ExitStack
from pathlib import Path

import torch

from common import fileio
from common.degenerate import RANDOM_BACKBONE, feature_warning, score_warning
from common.errors import warn
from inference.video.analysis import analyse, backbone_batch_size
from inference.video.dataset import write_dataset_h5
from inference.video.encode import frame_runs, write_summary_video
from inference.video.features import WEIGHTS_URL, load_backbone, weights_warning
from inference.video.googlenet import FEATURE_SIZE
from inference.video.page import summary_page
from inference.video.plot import plot_importance
from inference.video.report import summary_record
from inference.video.selection import select_shots
from model.checkpoints import load_model
from model.device import resolve_device

OUTPUTS = ("summary.mp4", "summary.json", "summary.html", "importance.png")
RANDOM_CAVEAT = ("RANDOM BACKBONE: this summary means nothing",
                 "made with a GoogLeNet of random weights (--random_backbone): the features, the scores and the "
                 "summary mean nothing; they only show that the pipeline runs (docs/video.md, \"Offline\")")
OTHER_WEIGHTS = "NOT THE IMAGENET BACKBONE: this summary may mean nothing"
FLAT_FEATURES = "FEATURES ALL ALIKE: this summary means nothing"
FLAT_SCORES = "FLAT SCORES: this summary is not a choice"


def backbone_name(args: argparse.Namespace) -> str:
    """The backbone the features come from, as summary.json records it: "random", the weights file, or the URL
    of torchvision's weights."""
    if args.random_backbone:
        return RANDOM_BACKBONE
    return str(args.backbone_weights.resolve()) if args.backbone_weights else WEIGHTS_URL


def settings(args: argparse.Namespace, video: Path) -> dict:
    """What summary.json records of the command's choices: a finished video with the same ones is skipped."""
    return {"video": str(video.resolve()), "checkpoint": str(args.checkpoint.resolve()),
            "backbone": backbone_name(args), "summary_ratio": float(args.summary_ratio),
            "max_shot_seconds": float(args.max_shot_seconds)}


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
        self.backbone = load_backbone(args.backbone_weights, self.device, args.random_backbone)
        self.caveats = [RANDOM_CAVEAT] if args.random_backbone else []  # (label, message) of every summary
        other_weights = weights_warning(args.backbone_weights)  # None with --random_backbone: no file is given
        if other_weights:
            self.caveats.append((OTHER_WEIGHTS, other_weights))
        for _, message in self.caveats:
            warn(message)

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
        caveats = self.caveats + [(label, message) for label, message in (
            (FLAT_FEATURES, feature_warning(analysis.features, video)), (FLAT_SCORES, score_warning(scores, video)))
            if message]
        for _, message in caveats[len(self.caveats):]:
            warn(message)
        record = summary_record(wanted, timeline, shots, shot_scores, selected, scores,
                                [message for _, message in caveats])

        with ExitStack() as outputs:
            paths = {name: outputs.enter_context(fileio.atomic_path(out_dir / name)) for name in OUTPUTS}
            start = time.perf_counter()
            write_summary_video(video, paths["summary.mp4"], timeline, frame_runs(shots.change_points, selected),
                                args.x264_preset)
            seconds["encode"] = time.perf_counter() - start
            plot_importance(paths["importance.png"], f"{video.name}: CA-SUM importance", record["sampled_sec"],
                            scores, record["shots"], timeline.duration, [label for label, _ in caveats])
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
            lines.append(f"  {shots.cut_text(args.max_shot_seconds)}")
        lines += [f"  {label}" for label, _ in caveats]
        lines.append("  seconds: " + ", ".join(f"{name} {value:.1f}" for name, value in seconds.items()))
        return lines
