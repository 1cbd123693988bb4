"""A video as one group of a dataset file in the benchmark layout (docs/method.md, "Data"), to join a training set.

Written: features, picks, n_steps, n_frames, change_points, n_frame_per_seg, video_name; with annotations (a list
of per-annotator binary frame vectors), also user_summary and gtscore (at each sampled frame, the share of the
annotators who selected it). Training (model/data_loader.py) reads only features; evaluation needs user_summary.
"""
import h5py
import numpy as np

from inference.video.analysis import Analysis

GROUP = "video_1"  # the one group of summarize_video.py's --save_h5 file


def write_group(group: h5py.Group, video_name: str, analysis: Analysis, user_summary: np.ndarray | None = None) -> None:
    """Fill the h5 `group` with one video's datasets.

    Args:
        group: an empty group of an h5 file open for writing.
        video_name: stored as video_name (the file's name).
        analysis: the video's features, timeline and shots.
        user_summary: [n_annotators, n_frames] 0/1, or None.
    """
    timeline, shots = analysis.timeline, analysis.shots
    group["features"] = np.asarray(analysis.features, dtype=np.float32)
    group["picks"] = np.asarray(timeline.picks, dtype=np.int64)
    group["n_steps"] = np.int64(len(timeline.picks))
    group["n_frames"] = np.int64(timeline.n_frames)
    group["change_points"] = np.asarray(shots.change_points, dtype=np.int64)
    group["n_frame_per_seg"] = np.asarray(shots.n_frame_per_seg, dtype=np.int64)
    group["video_name"] = video_name
    if user_summary is not None:
        users = np.asarray(user_summary, dtype=np.float32)
        group["user_summary"] = users
        group["gtscore"] = users[:, timeline.picks].mean(axis=0).astype(np.float32)


def write_dataset_h5(path, video_name: str, analysis: Analysis) -> None:
    """Write the one-group dataset file `path` (HDF5) of --save_h5."""
    with h5py.File(path, "w") as h5:
        write_group(h5.create_group(GROUP), video_name, analysis)
