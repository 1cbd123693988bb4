"""common/degenerate.py: which features and scores count as the same at every frame (the warning's threshold)."""
import h5py
import numpy as np

from common.degenerate import (
    feature_warning,
    flat_dataset_warning,
    near_constant,
    random_dataset_warning,
    score_warning,
)


def test_flat_values_are_near_constant_and_varied_ones_are_not():
    rng = np.random.default_rng(0)
    real = rng.random((40, 1024)).astype(np.float32) * 3
    assert not near_constant(real)
    assert near_constant(real * 1e-12)  # wrong backbone weights: pool5 features around 1e-12
    assert near_constant(np.repeat(real[:1], 40, axis=0))  # a still video
    assert near_constant(np.full(40, 0.721609890460968) + rng.random(40) * 1e-5)
    assert not near_constant(np.full(40, 0.72) + rng.random(40) * 1e-2)
    assert near_constant(np.full(40, 500.0) + rng.random(40) * 1e-2)  # relative to the largest value beyond 1
    assert not near_constant(real[:1]) and not near_constant(real[:0])  # one frame, or none, says nothing


def test_the_warnings_name_the_video_and_what_it_means():
    flat = np.zeros((6, 1024), np.float32)
    assert feature_warning(flat, "clip.mp4") == (
        "clip.mp4: the features of its 6 sampled frames are (nearly) the same at every frame (largest spread 0, "
        "largest value 0): backbone weights that are not torchvision's ImageNet GoogLeNet, or a still video; its "
        "scores and summary mean nothing")
    assert score_warning(np.full(6, 0.5), "clip.mp4").startswith("clip.mp4: CA-SUM's scores are (nearly) the same")
    assert feature_warning(np.eye(6, 1024, dtype=np.float32), "clip.mp4") is None
    assert score_warning(np.linspace(0, 1, 6), "clip.mp4") is None


def test_a_random_backbone_dataset_is_known_by_its_attribute(tmp_path):
    path = tmp_path / "d.h5"
    with h5py.File(path, "w") as h5:
        h5.attrs["backbone"] = "random"
    assert random_dataset_warning(path).startswith(f"{path}: its features come from a GoogLeNet of random weights")
    with h5py.File(path, "w"):
        pass
    assert random_dataset_warning(path) is None
    assert random_dataset_warning(tmp_path / "missing.h5") is None  # the reader's own error says it


def test_a_dataset_warning_counts_the_flat_videos():
    rng = np.random.default_rng(0)
    videos = [rng.random((10, 4)), np.zeros((10, 4)), rng.random((10, 4)) * 1e-13]
    assert flat_dataset_warning(videos, "d.h5").startswith("d.h5: the features of 2 of these 3 videos are (nearly)")
    assert flat_dataset_warning(videos[:1], "d.h5") is None
