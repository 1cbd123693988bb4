"""Summarize your own videos with a CA-SUM checkpoint.

    python inference/summarize_video.py VIDEO_OR_FOLDER... --checkpoint CKPT [-o OUT] [--summary_ratio 0.15]

Frames are sampled two per second and described by GoogLeNet pool5 features, like the benchmark datasets; shots
come from kernel temporal segmentation of those features, long ones cut (--max_shot_seconds); CA-SUM scores the
sampled frames and the benchmark's knapsack keeps the best shots within the budget. Each video's folder receives
summary.mp4, summary.json, summary.html, importance.png and, with --save_h5, dataset.h5, all together at the end
or none. One video goes to OUT (default: `{stem}_summary/` next to it); several, or a folder, to OUT/{stem}/. The
backbone and the checkpoint are loaded once; a video whose outputs are complete is skipped, so an interrupted batch
continues where it stopped; a video that fails is reported and the others go on (docs/video.md). The files named
are checked before PyTorch loads. Without a download, --random_backbone runs the pipeline with a GoogLeNet of
random weights: every output then says that it means nothing (docs/video.md, "Offline").
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.video.memory import limit_malloc_arenas

limit_malloc_arenas()  # before torch and FFmpeg start their threads

from common.cli import bounded
from common.errors import check_all, run_cli
from common.hints import missing_checkpoint_hint
from inference.video.encode import DEFAULT_PRESET, PRESETS
from inference.video.inputs import find_videos, output_folders
from inference.video.options import add_analysis_arguments, check_backbone_weights, check_file

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


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    videos, _, _ = check_all(lambda: find_videos(args.inputs),
                             lambda: check_file(args.checkpoint, "checkpoint file", missing_checkpoint_hint()),
                             lambda: check_backbone_weights(args))
    batch = len(videos) > 1 or any(path.is_dir() for path in args.inputs)
    folders = dict(zip(videos, output_folders(videos, args.out_dir, batch)))
    # PyTorch and FFmpeg take seconds to import, more on a busy machine: the files are checked first
    from inference.video.batch import run_batch
    from inference.video.summarizer import Summarizer
    from model.device import numerics

    summarizer = Summarizer(args)
    with numerics(summarizer.device, args.tf32):
        run_batch(videos, lambda video: summarizer(video, folders[video]))


if __name__ == "__main__":
    run_cli(main, INTERRUPTED)
