"""Score the released CA-SUM models (or our own checkpoints) on their splits' test videos (SPEC section 6).

    python inference/inference.py --dataset SumMe
    python inference/inference.py --dataset TVSum --corr_coef true

For each split k it loads the one checkpoint under {model_dir}/{Dataset}/split{k}/ and prints the authors' line
`CA-SUM model trained for split: k achieved an F-score: ...%`, then the averages over the splits. A checkpoint
folder of our own training ({exp_dir}/reg{sigma}/{Dataset}/models/split{k}/) works too: pass
--model_dir {exp_dir}/reg{sigma}; there the model selection's `selected_epoch*.pt` is scored.
"""
import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.choose_best_model import default_annotation_file  # noqa: E402
from evaluation.eval_data import EvalDataset, check_length  # noqa: E402
from evaluation.evaluate_experiment import check_annotations  # noqa: E402
from evaluation.evaluation_metrics import get_corr_coeff, load_tvsum_annotations  # noqa: E402
from inference.checkpoint import load_model  # noqa: E402
from model import fileio  # noqa: E402
from model.configs import (REPO_ROOT, bounded, default_dataset_file, default_splits_file, resolve_device,  # noqa: E402
                           str2bool)
from model.data_loader import load_features, load_splits  # noqa: E402
from model.errors import UserError, run_cli  # noqa: E402

EVAL_METHOD = {"SumMe": "max", "TVSum": "avg"}


def checkpoint_file(model_dir, dataset, split):
    """The one checkpoint of split `split`: {model_dir}/{dataset}/split{k}/*, or our training's models/split{k}."""
    candidates = [Path(model_dir) / dataset / f"split{split}", Path(model_dir) / dataset / "models" / f"split{split}"]
    folder = next((c for c in candidates if c.is_dir()), None)
    if folder is None:
        raise UserError(f"{candidates[0]}: no checkpoint folder for split {split} "
                        f"(get the released models with `python data/download.py models`)")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    selected = [p for p in files if p.name.startswith("selected_epoch")]
    if len(selected) == 1:
        return selected[0]
    if not files:
        raise UserError(f"{folder}: no checkpoint file")
    if len(files) > 1:
        raise UserError(f"{folder}: several candidate checkpoint files ({', '.join(p.name for p in files)}); keep one")
    return files[0]


def evaluate_split(scores, videos, eval_method, annotations=None):
    """(mean F-score, mean rho, mean tau, per-video F-scores) of one split; rho/tau None without annotations.

    Each video's summary and F-score are those of generate_summary + evaluate_summary (SPEC section 4).
    """
    f_scores, rhos, taus = [], [], []
    for s, video in zip(scores, videos):
        f_scores.append(float(video.scorer.f_scores(video.shots.select(s[None, :]), eval_method)[0]))
        if annotations is not None:
            rho, tau = get_corr_coeff(s, annotations[video.key])
            rhos.append(rho)
            taus.append(tau)
    mean = lambda values: float(np.mean(values)) if values else None  # noqa: E731
    return mean(f_scores), mean(rhos), mean(taus), f_scores


def finite(value):
    """`value`, or None when it is undefined (the rank correlation of constant scores is NaN): JSON has no NaN."""
    return value if value is not None and math.isfinite(value) else None


def split_line(split, f_score, rho, tau):
    line = f"CA-SUM model trained for split: {split} achieved an F-score: {f_score:.2f}%"
    if rho is not None:
        line += f", a Spearman's \u03c1: {rho:.3f}  and a Kendall's \u03c4: {tau:.3f}"
    return line


def build_parser():
    p = argparse.ArgumentParser(prog="python inference/inference.py", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=tuple(EVAL_METHOD), default="SumMe", help="default: SumMe")
    p.add_argument("--corr_coef", type=str2bool, default=False,
                   help="TVSum only: also Spearman's rho and Kendall's tau against the annotations (default: false)")
    p.add_argument("--model_dir", type=Path, default=REPO_ROOT / "inference" / "pretrained_models",
                   help="folder holding {Dataset}/split{k}/ (default: inference/pretrained_models)")
    p.add_argument("--dataset_file", type=Path, help="h5 features file (default: data/{Dataset}/eccv16_dataset_..._pool5.h5)")
    p.add_argument("--splits_file", type=Path, help="splits JSON (default: data/splits/{dataset}_splits.json)")
    p.add_argument("--anno", type=Path, help="TVSum annotations, ydata-anno.tsv or .rar (default: data/TVSum/ydata-anno.tsv)")
    p.add_argument("--block_size", type=bounded(int, 1, what="block_size"), default=60,
                   help="block size the models were trained with (default: 60)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: auto")
    p.add_argument("--report", type=Path, help="also write the results as JSON to this file")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    device = resolve_device(args.device)
    dataset_file = args.dataset_file or default_dataset_file(args.dataset)
    splits_file = args.splits_file or default_splits_file(args.dataset)
    splits = load_splits(splits_file)
    with_corr = args.corr_coef and args.dataset == "TVSum"
    anno = args.anno or default_annotation_file()
    annotations = load_tvsum_annotations(anno) if with_corr else None
    checkpoints = [checkpoint_file(args.model_dir, args.dataset, k) for k in range(len(splits))]
    report = {"dataset": args.dataset, "dataset_file": str(dataset_file), "splits": []}
    numbers = []  # (f_score, rho, tau) of each split, NaN included
    with EvalDataset(dataset_file) as data:
        for k, (split, path) in enumerate(zip(splits, checkpoints)):
            keys = split["test_keys"]
            videos = [data.video(key, splits_file) for key in keys]
            features = load_features(dataset_file, keys, None)
            model = load_model(path, device, args.block_size, input_size=features[0].shape[1])
            scores = [model.score_frames(x.to(device)).cpu().numpy() for x in features]
            for key, s, video in zip(keys, scores, videos):
                if not np.isfinite(s).all():
                    raise UserError(f"{path}: NaN or infinite scores for {key} of {dataset_file}; are the weights "
                                    f"and the features of a sane magnitude?")
                check_length(dataset_file, key, s, video, dataset_file)
            if with_corr:
                check_annotations(annotations, anno, {v.key: v.n_scores for v in videos}, dataset_file)
            f_score, rho, tau, per_video = evaluate_split(scores, videos, EVAL_METHOD[args.dataset], annotations)
            print(split_line(k, f_score, rho, tau), flush=True)
            numbers.append((f_score, rho, tau))
            report["splits"].append({"split": k, "checkpoint": str(path), "f_score": f_score, "rho": finite(rho),
                                     "tau": finite(tau), "videos": dict(zip(keys, per_video))})
    averages = {}
    for name, values in zip(("f_score", "rho", "tau"), zip(*numbers)):
        values = [v for v in values if v is not None]
        averages[name] = float(np.mean(values)) if values else None
        report[name] = finite(averages[name])
    average = f"Average over {len(splits)} splits: F-score {averages['f_score']:.2f}%"
    if with_corr:
        average += f", Spearman's \u03c1 {averages['rho']:.3f}, Kendall's \u03c4 {averages['tau']:.3f}"
    print(average)
    if args.report:
        fileio.write_json(args.report, report, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
