"""--save_h5: the video as one group of a dataset file in the benchmark layout (docs/method.md, "Data"), to join a
training set.

Written: features, picks, n_steps, n_frames, change_points, n_frame_per_seg, video_name. Not written, since a new
video has no annotations: gtscore, gtsummary, user_summary. Training (model/data_loader.py) reads only features, so
the group can go in a split's train_keys; evaluation needs user_summary, so not in its test_keys.
"""
import h5py
import numpy as np

GROUP = "video_1"


def write_dataset_h5(path, video_name, features, timeline, change_points, n_frame_per_seg):
    """Write the one-group dataset file `path` (HDF5)."""
    with h5py.File(path, "w") as h5:
        group = h5.create_group(GROUP)
        group["features"] = np.asarray(features, dtype=np.float32)
        group["picks"] = np.asarray(timeline.picks, dtype=np.int64)
        group["n_steps"] = np.int64(len(timeline.picks))
        group["n_frames"] = np.int64(timeline.n_frames)
        group["change_points"] = np.asarray(change_points, dtype=np.int64)
        group["n_frame_per_seg"] = np.asarray(n_frame_per_seg, dtype=np.int64)
        group["video_name"] = video_name
