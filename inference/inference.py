"""Score the released CA-SUM models (or our own checkpoints) on their splits' test videos (docs/method.md,
"Released models").

    python inference/inference.py --dataset SumMe
    python inference/inference.py --dataset TVSum --corr_coef true
    python inference/inference.py --model_dir Summaries/exp1/reg0.6 [--split_index 0]

For each split k it loads the one checkpoint under {model_dir}/{Dataset}/split{k}/ (the released layout: every
split of the splits file must be there) and prints the authors' line `CA-SUM model trained for split: k achieved an
F-score: ...%`, then the averages over the splits. A folder of our own training, {exp_dir}/reg{sigma}, has its
checkpoints in {Dataset}/models/split{k}/: there the model selection's `selected_epoch*.pt` of every split that has
one is scored. `--split_index k` scores one split only.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse

import numpy as np

from common import fileio
from common.cli import DEVICES, bounded, description, str2bool
from common.datasets import DATASET_NAMES, DATASETS
from common.degenerate import near_constant, random_dataset_warning
from common.errors import UserError, run_cli, warn
from common.hints import missing_models_hint
from common.numbers import fixed
from common.paths import PRETRAINED_DIR, default_dataset_file, default_splits_file
from common.splits import load_splits
from evaluation.annotations import check_annotations, load_annotations
from evaluation.eval_data import EvalDataset, EvalVideo, check_length
from evaluation.evaluation_metrics import get_corr_coeff


def checkpoint_files(model_dir: Path, dataset: str, n_splits: int, split_index: int | None = None) -> dict[int, Path]:
    """{split: checkpoint file} to score.

    The released layout {model_dir}/{dataset}/split{k}/ holds one file per split, every split of the splits file.
    Our training's layout {model_dir}/{dataset}/models/split{k}/ holds selected_epoch{e}.pt for each finished run:
    the splits that have one are scored.
    """
    if not Path(model_dir).is_dir():
        raise UserError(f"{model_dir}: model folder not found{missing_models_hint()}")
    trained = Path(model_dir) / dataset / "models"
    wanted = range(n_splits) if split_index is None else [split_index]
    if not trained.is_dir():
        return {k: released_checkpoint(Path(model_dir) / dataset / f"split{k}", k) for k in wanted}
    found = {k: sorted((trained / f"split{k}").glob("selected_epoch*.pt")) for k in wanted}
    if split_index is not None and not found[split_index]:
        raise UserError(f"{trained / f'split{split_index}'}: no selected_epoch*.pt (train split {split_index} to the "
                        f"end first: python model/main.py --split_index {split_index} ...)")
    if not any(found.values()):
        raise UserError(f"{trained}: no finished run (split{{k}}/selected_epoch*.pt) for the splits 0..{n_splits - 1} "
                        f"of the splits file")
    return {k: files[-1] for k, files in found.items() if files}


def released_checkpoint(folder: Path, split: int) -> Path:
    """The one checkpoint file of a split in the released layout."""
    if not folder.is_dir():
        raise UserError(f"{folder}: no checkpoint folder for split {split}{missing_models_hint()}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise UserError(f"{folder}: no checkpoint file")
    if len(files) > 1:
        raise UserError(f"{folder}: several candidate checkpoint files ({', '.join(p.name for p in files)}); keep one")
    return files[0]


def evaluate_split(scores: list[np.ndarray], videos: list[EvalVideo], eval_method: str, annotations=None):
    """(mean F-score, mean rho, mean tau, per-video F-scores) of one split; rho/tau None without annotations.

    Each video's summary and F-score are those of generate_summary + evaluate_summary (docs/method.md, "Evaluation").
    """
    f_scores, rhos, taus = [], [], []
    for s, video in zip(scores, videos):
        f_scores.append(float(video.scorer.f_scores(video.shots.select(s[None, :]), eval_method)[0]))
        if annotations is not None:
            rho, tau = get_corr_coeff(s, annotations[video.key])
            rhos.append(rho)
            taus.append(tau)
    return mean(f_scores), mean(rhos), mean(taus), f_scores


def mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def split_line(split: int, f_score: float, rho: float | None, tau: float | None) -> str:
    """The authors' line for one split."""
    line = f"CA-SUM model trained for split: {split} achieved an F-score: {f_score:.2f}%"
    if rho is not None:
        line += f", a Spearman's \u03c1: {rho:.3f}  and a Kendall's \u03c4: {tau:.3f}"
    return line


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python inference/inference.py", description=description(__doc__))
    p.add_argument("--dataset", choices=DATASET_NAMES, default="SumMe", help="default: SumMe")
    p.add_argument("--corr_coef", type=str2bool, default=False,
                   help="TVSum only: also Spearman's rho and Kendall's tau against the annotations (default: false)")
    p.add_argument("--model_dir", type=Path, default=PRETRAINED_DIR,
                   help="folder holding {Dataset}/split{k}/, or an {exp_dir}/reg{sigma} of our own training "
                        "(default: inference/pretrained_models)")
    p.add_argument("--split_index", type=bounded(int, 0, what="split_index"), default=None,
                   help="score this split only (default: every split)")
    p.add_argument("--dataset_file", type=Path,
                   help="h5 features file (default: data/{Dataset}/eccv16_dataset_..._pool5.h5)")
    p.add_argument("--splits_file", type=Path, help="splits JSON (default: data/splits/{dataset}_splits.json)")
    p.add_argument("--anno", type=Path,
                   help="TVSum annotations, ydata-anno.tsv or .rar (default: data/TVSum/ydata-anno.tsv)")
    p.add_argument("--block_size", type=bounded(int, 1, what="block_size"), default=60,
                   help="block size the models were trained with (default: 60)")
    p.add_argument("--device", choices=DEVICES, default="auto", help="default: auto")
    p.add_argument("--report", type=Path, help="also write the results as JSON to this file")
    return p


def constant_scores_warning(path: Path, split: int, keys: list[str], scores: list[np.ndarray],
                            dataset_file: Path) -> str | None:
    """The warning for a split whose checkpoint gave some test videos the same score at every frame
    (common/degenerate.py), or None."""
    constant = [key for key, s in zip(keys, scores) if near_constant(s)]
    if not constant:
        return None
    shown = ", ".join(constant[:5]) + (", ..." if len(constant) > 5 else "")
    return (f"{path}: CA-SUM gave (nearly) the same score to every frame of {len(constant)} of the {len(keys)} test "
            f"videos of split {split} ({shown}): which shots their summaries keep is decided by rounding-sized "
            f"differences, not a choice; check the checkpoint and the features of {dataset_file}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    dataset_file = args.dataset_file or default_dataset_file(args.dataset)
    splits_file = args.splits_file or default_splits_file(args.dataset)
    splits = load_splits(splits_file)
    if args.split_index is not None and args.split_index >= len(splits):
        raise UserError(f"--split_index {args.split_index}: {splits_file} has splits 0..{len(splits) - 1}")
    with_corr = args.corr_coef and DATASETS[args.dataset].annotations
    annotations, anno = load_annotations(args.anno) if with_corr else (None, None)
    data = EvalDataset(dataset_file)
    warning = random_dataset_warning(dataset_file)
    if warning:
        warn(warning)
    checkpoints = checkpoint_files(args.model_dir, args.dataset, len(splits), args.split_index)
    # PyTorch takes seconds to import, more on a busy machine: the files above are checked before it loads
    from model.checkpoints import load_model
    from model.data_loader import load_features
    from model.device import numerics, resolve_device

    device = resolve_device(args.device)
    report = {"dataset": args.dataset, "dataset_file": str(dataset_file), "splits": []}
    numbers = []  # (f_score, rho, tau) of each split, NaN included
    with data, numerics(device):
        for k, path in checkpoints.items():
            keys = splits[k]["test_keys"]
            videos = [data.video(key, splits_file) for key in keys]
            features = load_features(dataset_file, keys, None, splits_file)
            model = load_model(path, device, args.block_size, input_size=features[0].shape[1])
            scores = [model.score_frames(x.to(device)).cpu().numpy() for x in features]
            for key, s, video in zip(keys, scores, videos):
                if not np.isfinite(s).all():
                    raise UserError(f"{path}: NaN or infinite scores for {key} of {dataset_file}; are the weights "
                                    f"and the features of a sane magnitude?")
                check_length(dataset_file, key, s, video, dataset_file)
            if with_corr:
                check_annotations(annotations, anno, {v.key: v.n_scores for v in videos}, dataset_file)
            warning = constant_scores_warning(path, k, keys, scores, dataset_file)
            if warning:
                warn(warning)
            f_score, rho, tau, per_video = evaluate_split(scores, videos, DATASETS[args.dataset].eval_method,
                                                          annotations)
            print(split_line(k, f_score, rho, tau), flush=True)
            if path.name.startswith("selected_epoch"):  # which epoch of one's own training was scored
                print(f"  {path}", flush=True)
            numbers.append((f_score, rho, tau))
            report["splits"].append({"split": k, "checkpoint": str(path), "f_score": f_score, "rho": fileio.finite(rho),
                                     "tau": fileio.finite(tau), "videos": dict(zip(keys, per_video))})
    averages = {}
    for name, values in zip(("f_score", "rho", "tau"), zip(*numbers)):
        averages[name] = mean([v for v in values if v is not None])
        report[name] = fileio.finite(averages[name])
    missing = len(splits) - len(checkpoints) if args.split_index is None else 0
    unfinished = f" (no finished run for {missing} of the {len(splits)} splits)" if missing else ""
    average = f"Average over {len(checkpoints)} split{'s' * (len(checkpoints) > 1)}{unfinished}: " \
              f"F-score {averages['f_score']:.2f}%"
    if with_corr:
        average += f", Spearman's \u03c1 {fixed(averages['rho'], 3)}, Kendall's \u03c4 {fixed(averages['tau'], 3)}"
    print(average)
    if args.report:
        fileio.write_json(args.report, report, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
