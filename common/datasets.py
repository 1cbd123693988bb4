"""The datasets the project knows and the constants of the protocol (docs/method.md, "Data" and "Evaluation")."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """What the commands need to know about one benchmark.

    name: the --video_type / --dataset name, which also names the output folders and score files;
    eval_method: how a summary's F-scores against the user summaries are reduced ('max' or 'avg');
    batch_size: the paper's videos per optimiser step; h5_path, splits_path: default files under data/;
    annotations: whether rank correlations need the separate TVSum annotation file;
    mrhisum: Mr.HiSum's layout (docs/mrhisum.md): one row per second, a train/val/test split, its own metrics
    computed during training, and the videos streamed from the file.
    """
    name: str
    eval_method: str
    batch_size: int
    h5_path: str
    splits_path: str
    annotations: bool = False
    mrhisum: bool = False


DATASETS = {d.name: d for d in (
    Dataset("SumMe", "max", 20, "SumMe/eccv16_dataset_summe_google_pool5.h5", "splits/summe_splits.json"),
    Dataset("TVSum", "avg", 40, "TVSum/eccv16_dataset_tvsum_google_pool5.h5", "splits/tvsum_splits.json",
            annotations=True),
    Dataset("MrHiSum", "avg", 40, "MrHiSum/mr_hisum.h5", "MrHiSum/mr_hisum_split.json", mrhisum=True),
)}
DATASET_NAMES = tuple(DATASETS)
EVAL_METHODS = ("max", "avg")
SIGMAS = (0.5, 0.6, 0.7, 0.8, 0.9)  # the length-regularisation factors of the paper's grid
SAMPLE_STEP = 15  # the benchmark features (and the TVSum annotations' sub-sampling) take every 15th frame
SUMMARY_RATIO = 0.15  # a summary holds at most 15% of the video's frames


def sigma_folder(sigma: float) -> str:
    """The folder of one sigma's runs: reg0.5, reg0.6, ... (the float as Python prints it)."""
    return f"reg{float(sigma)}"
