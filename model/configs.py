"""Command-line configuration of a training run: the reference's arguments, names and defaults, plus paths, device
and resume options. Paths given on the command line are taken as given; the defaults are relative to the repository
(common/paths.py), so `python model/main.py` works from any directory.

Every argument and input file is checked before torch is imported (seconds on a busy machine), so that a mistake is
reported at once; only the device, last, needs torch."""
import argparse
from pathlib import Path

from common.cli import DEVICES, bounded, optional, positive, str2bool
from common.datasets import DATASET_NAMES, DATASETS, sigma_folder
from common.errors import UserError
from common.hints import missing_data_hint
from common.paths import DEFAULT_EXP_DIR, default_dataset_file, default_splits_file
from common.splits import load_splits

INIT_TYPES = ("xavier", "normal", "kaiming", "orthogonal")
RESUME_EVERY = 10  # epochs between two saves of resume.pt: at most that many are trained again after a kill


def init_type(text: str) -> str | None:
    if text.lower() == "none":
        return None
    if text not in INIT_TYPES:
        raise argparse.ArgumentTypeError(f"unknown init_type {text!r} (choose from {', '.join(INIT_TYPES)} or None)")
    return text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python model/main.py",
        description="Train CA-SUM on one split for one length-regularisation factor sigma (--reg_factor).")
    g = p.add_argument_group("mode")
    g.add_argument("--mode", choices=("train", "test"), default="train",
                   help="kept for compatibility with the reference CLI; main.py always trains (default: train)")
    g.add_argument("--verbose", type=str2bool, nargs="?", const=True, default=False,
                   help="print the loss of every epoch: --verbose, or the authors' --verbose true (default: false)")
    g.add_argument("--video_type", choices=DATASET_NAMES, default="SumMe",
                   help="dataset name; it names the output folders and score files; MrHiSum trains on Mr.HiSum's "
                        "layout with validation every --eval_every epochs (default: SumMe)")
    g = p.add_argument_group("model")
    g.add_argument("--input_size", type=bounded(int, 1, what="input_size"), default=1024,
                   help="feature size of the input (default: 1024)")
    g.add_argument("--block_size", type=bounded(int, 1, what="block_size"), default=60,
                   help="size of the blocks kept on the diagonal of the attention matrix (default: 60)")
    g.add_argument("--init_type", type=init_type, default="xavier",
                   help=f"weight initialisation: {', '.join(INIT_TYPES)} or None (default: xavier)")
    g.add_argument("--init_gain", type=optional(bounded(float, what="init_gain")), default=1.4142,
                   help="standard deviation of the 'normal' initialisation (default: 1.4142)")
    g = p.add_argument_group("training")
    g.add_argument("--n_epochs", type=bounded(int, 1, what="n_epochs"), default=400,
                   help="training epochs (default: 400)")
    g.add_argument("--batch_size", type=bounded(int, 1, what="batch_size"), default=20,
                   help="videos per optimiser step; the paper uses 20 for SumMe, 40 for TVSum (default: 20)")
    g.add_argument("--seed", type=optional(int), default=12345, help="random seed, or None (default: 12345)")
    g.add_argument("--clip", type=bounded(float, 0, low_open=True, what="clip"), default=5.0,
                   help="maximum L2 norm of the gradient (default: 5.0)")
    g.add_argument("--lr", type=bounded(float, 0, low_open=True, what="lr"), default=5e-4,
                   help="learning rate (default: 5e-4)")
    g.add_argument("--l2_req", type=bounded(float, 0, what="l2_req"), default=1e-5,
                   help="Adam weight decay (default: 1e-5)")
    g.add_argument("--reg_factor", type=bounded(float, 0, 1, low_open=True, what="reg_factor"), default=0.6,
                   help="length regularisation factor sigma, 0 < sigma <= 1 (default: 0.6)")
    g.add_argument("--split_index", type=bounded(int, 0, what="split_index"), default=0,
                   help="index of the split in the splits file (default: 0)")
    g = p.add_argument_group("files and device")
    g.add_argument("--dataset_file", type=Path, default=None,
                   help="h5 features file (default: data/{VideoType}/eccv16_dataset_{videotype}_google_pool5.h5)")
    g.add_argument("--splits_file", type=Path, default=None,
                   help="splits JSON (default: data/splits/{videotype}_splits.json)")
    g.add_argument("--exp_dir", type=Path, default=DEFAULT_EXP_DIR, help="experiment folder (default: Summaries/exp1)")
    g.add_argument("--device", choices=DEVICES, default="auto", help="auto uses CUDA when available (default: auto)")
    g.add_argument("--tf32", action="store_true",
                   help="on CUDA, allow TensorFloat-32 products: faster on Ampere and later GPUs, but about 1e-3 "
                        "from full float32 (default: full float32; docs/reproducibility.md)")
    g.add_argument("--workers", type=bounded(int, 0, what="workers"), default=1,
                   help="processes reading the videos ahead of the model when they are streamed from the file "
                        "(Mr.HiSum, torchrun; 0: read in the training process; default: 1)")
    g.add_argument("--save_scores", type=str2bool, default=None,
                   help="write the evaluated videos' scores of every epoch as JSON (default: true, false for "
                        "MrHiSum, whose validation metrics are computed during training)")
    g.add_argument("--eval_every", type=positive, default=1, metavar="N",
                   help="MrHiSum: validate every N epochs, and after the last (default: 1)")
    g.add_argument("--save_weights", type=str2bool, default=False,
                   help="also save the attention matrices of the first and last evaluation to weights.h5 "
                        "(default: false)")
    g = p.add_argument_group("interruptions")
    g.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its resume.pt (a finished run is left as it is)")
    g.add_argument("--overwrite", action="store_true", help="delete the run's existing outputs and train it again")
    g.add_argument("--resume_every", type=positive, default=RESUME_EVERY, metavar="N",
                   help=f"save resume.pt every N epochs: a killed run resumed with --resume trains at most N epochs "
                        f"again, with bit-identical results (default: {RESUME_EVERY})")
    return p


def run_dirs(exp_dir: Path, reg_factor: float, video_type: str, split_index: int) -> tuple[Path, Path, Path]:
    """(log_dir, score_dir, save_dir) of one run: {exp_dir}/reg{sigma}/{VideoType}/{logs,results,models}/split{k}."""
    base = Path(exp_dir) / sigma_folder(reg_factor) / video_type
    return tuple(base / part / f"split{split_index}" for part in ("logs", "results", "models"))


def get_config(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and validate the command line: argparse rejects a malformed argument with its usage; a value that does
    not fit the data (a split, the batch size, a file) is a one-line UserError. Both exit with status 2."""
    parser = build_parser()
    config = parser.parse_args(argv)
    config.dataset = DATASETS[config.video_type]
    if config.save_scores is None:
        config.save_scores = not config.dataset.mrhisum
    config.dataset_file = config.dataset_file or default_dataset_file(config.video_type)
    config.splits_file = config.splits_file or default_splits_file(config.video_type)
    splits = load_splits(config.splits_file)
    if config.split_index >= len(splits):
        raise UserError(f"--split_index {config.split_index}: {config.splits_file} has splits 0..{len(splits) - 1}")
    config.split = splits[config.split_index]
    if config.dataset.mrhisum and "val_keys" not in config.split:
        raise UserError(f"--video_type {config.video_type}: {config.splits_file} has no val_keys (Mr.HiSum's split "
                        f"file is one object with train_keys, val_keys and test_keys)")
    n_train = len(config.split["train_keys"])
    if config.batch_size > n_train:
        raise UserError(f"--batch_size {config.batch_size} is larger than the {n_train} training videos of split "
                        f"{config.split_index} in {config.splits_file}: use --batch_size {n_train} or less")
    if not Path(config.dataset_file).is_file():
        raise UserError(f"{config.dataset_file}: dataset file not found{missing_data_hint(config.dataset_file)}")
    if config.resume and config.overwrite:
        raise UserError("--resume and --overwrite exclude each other")
    if config.init_type == "normal" and config.init_gain is None:
        raise UserError("--init_type normal needs an --init_gain")
    from model.device import resolve_device  # torch, imported once everything else is known to be right
    config.device = resolve_device(config.device)
    config.log_dir, config.score_dir, config.save_dir = run_dirs(
        config.exp_dir, config.reg_factor, config.video_type, config.split_index)
    config.run_label = f"{config.save_dir.parent.parent} split {config.split_index}"
    return config
