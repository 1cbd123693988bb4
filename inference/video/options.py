"""The options both video commands take (inference/summarize_video.py, data/make_dataset_from_videos.py), and the
check of the files they name, without importing PyTorch or FFmpeg: the commands refuse a missing file
before those load, which takes seconds (more on a busy machine)."""
import argparse
from pathlib import Path

from common.cli import DEVICES, bounded
from common.errors import UserError

MAX_SHOT_SECONDS = 10.0  # the default: twice the benchmark's mean shot (docs/video.md, "Shots")
OFFLINE = "docs/video.md, \"Offline\""


def add_analysis_arguments(p: argparse.ArgumentParser) -> None:
    """The options of the analysis (inference/video/analysis.py): shot length, backbone, device and its float32
    precision, batch size."""
    p.add_argument("--max_shot_seconds", type=bounded(float, 1, what="max_shot_seconds"), default=MAX_SHOT_SECONDS,
                   metavar="S", help=f"shots longer than this are cut into equal parts (default: {MAX_SHOT_SECONDS:g}; "
                                     "inf: KTS's shots as they are)")
    backbone = p.add_mutually_exclusive_group()
    backbone.add_argument("--backbone_weights", type=Path, default=None, metavar="PATH",
                          help="local state_dict of torchvision's ImageNet GoogLeNet (googlenet-1378be20.pth); "
                               "default: downloaded once from PyTorch's model zoo into torch's cache, as torchvision "
                               "does")
    backbone.add_argument("--random_backbone", action="store_true",
                          help=f"a GoogLeNet of random weights instead, with no download: to try the pipeline "
                               f"offline; its features, and so every output, mean nothing ({OFFLINE})")
    p.add_argument("--device", choices=DEVICES, default="auto", help="auto uses CUDA when available (default: auto)")
    p.add_argument("--tf32", action="store_true",
                   help="on CUDA, let the backbone's convolutions use TensorFloat-32: faster on Ampere and later GPUs, "
                        "but features about 1e-3 from the CPU's, which can move shots and picks (default: full "
                        "float32; docs/reproducibility.md)")
    p.add_argument("--batch_size", type=bounded(int, 1, what="batch_size"), default=None, metavar="N",
                   help="frames per backbone batch (default: 8 on CPU, 64 on CUDA)")


def check_file(path: Path | None, what: str, hint: str = "") -> None:
    """A one-line UserError, followed by `hint`, when the file `path` (None: not given) is missing."""
    if path is not None and not Path(path).is_file():
        raise UserError(f"{path}: {what} not found{hint}")


def check_backbone_weights(args: argparse.Namespace) -> None:
    """--backbone_weights, when given, exists."""
    check_file(args.backbone_weights, "backbone weights file",
               f"; torchvision's googlenet-1378be20.pth comes from https://download.pytorch.org/models/, or try the "
               f"pipeline offline with --random_backbone ({OFFLINE})")
