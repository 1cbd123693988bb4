"""The paper's reduction of a summary's F-scores over the user summaries: max for SumMe, avg for TVSum
(docs/method.md, "Evaluation"; common/datasets.py). Another one gives other numbers (the SumMe demo's 59.52 with max
is 31.28 with avg), not comparable with the paper's: the commands warn, record the reduction in the report, and
write its results under names of their own (f_scores.avg.txt, SumMe_best_models.avg.json, SumMe_curves.avg.png), so
that the protocol's files are never replaced by another reduction's (docs/evaluation.md)."""
from common.datasets import DATASETS


def is_protocol(dataset: str, eval_method: str) -> bool:
    """Whether `eval_method` is the paper's reduction for `dataset`."""
    return DATASETS[dataset].eval_method == eval_method


def output_name(name: str, dataset: str, eval_method: str) -> str:
    """The file name `name` (e.g. f_scores.txt) for the protocol's reduction; for another one, the reduction goes
    before the extension (f_scores.avg.txt)."""
    if is_protocol(dataset, eval_method):
        return name
    stem, _, extension = name.rpartition(".")
    return f"{stem}.{eval_method}.{extension}"


def protocol_warning(dataset: str, eval_method: str) -> str | None:
    """The warning for evaluating `dataset` with `eval_method`, or None when it is the paper's protocol."""
    if is_protocol(dataset, eval_method):
        return None
    paper = DATASETS[dataset].eval_method
    return (f"{dataset} evaluated with {eval_method}: the paper reduces {dataset}'s F-scores over the user summaries "
            f"with {paper}, so these numbers are not comparable with the paper's; they go to files named "
            f"*.{eval_method}.* and leave the {paper} results as they are")
