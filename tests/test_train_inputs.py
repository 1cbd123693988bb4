"""model/main.py and the split scripts reject bad arguments and bad data with one clear line, before training."""
import json
import subprocess

import h5py
import numpy as np
import pytest

from model.main import main
from tests.helpers import REPO, assert_user_error, run_main, run_script, tiny_video, write_h5

KEYS = [f"video_{i}" for i in range(1, 6)]


@pytest.fixture
def dataset(tmp_path):
    """A valid 5-video dataset (8-d features) and a 2-split file: train on 4 videos, test on 1."""
    h5 = write_h5(tmp_path / "data.h5", {k: tiny_video(seed=i) for i, k in enumerate(KEYS)})
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps([{"train_keys": KEYS[:4], "test_keys": KEYS[4:]},
                                  {"train_keys": KEYS[1:], "test_keys": KEYS[:1]}]))
    return h5, splits


def train_args(tmp_path, h5, splits, *args):
    return [str(a) for a in ["--dataset_file", h5, "--splits_file", splits, "--exp_dir", tmp_path / "exp",
                             "--input_size", 8, "--batch_size", 2, "--n_epochs", 1, "--device", "cpu", *args]]


@pytest.fixture
def train():
    """model/main.py run in this process (fast); returns what the command line would."""
    return lambda tmp_path, h5, splits, *args: run_main(main, *train_args(tmp_path, h5, splits, *args))


def test_valid_inputs_train_from_the_command_line(tmp_path, dataset):
    result = run_script("model/main.py", *train_args(tmp_path, *dataset, "--split_index", 1))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "exp" / "reg0.6" / "SumMe" / "results" / "split1" / "SumMe_0.json").is_file()


@pytest.mark.parametrize("args, message", [
    (["--block_size", "0"], "block_size must satisfy 1 <= block_size"),
    (["--reg_factor", "0"], "reg_factor must satisfy 0 < reg_factor <= 1"),
    (["--reg_factor", "1.5"], "reg_factor must satisfy 0 < reg_factor <= 1"),
    (["--reg_factor", "nan"], "reg_factor must satisfy"),
    (["--init_type", "uniform"], "unknown init_type 'uniform'"),
    (["--n_epochs", "0"], "n_epochs must satisfy 1 <= n_epochs"),
    (["--lr", "-1"], "lr must satisfy 0 < lr"),
    (["--verbose", "maybe"], "boolean value expected"),
    (["--device", "tpu"], "invalid choice: 'tpu'"),
    (["--video_type", "Summe"], "invalid choice: 'Summe'"),
])
def test_bad_arguments_are_rejected_by_argparse(train, tmp_path, dataset, args, message):
    result = train(tmp_path, *dataset, *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "usage:" in result.stderr and message in result.stderr, result.stderr
    assert not (tmp_path / "exp").exists()


@pytest.mark.parametrize("args, message", [
    (["--split_index", "2"], "--split_index 2: {splits} has splits 0..1"),
    (["--batch_size", "5"], "--batch_size 5 is larger than the 4 training videos of split 0 in {splits}: use "
                            "--batch_size 4 or less"),
    (["--resume", "--overwrite"], "--resume and --overwrite exclude each other"),
])
def test_values_that_do_not_fit_the_data_are_one_line(train, tmp_path, dataset, args, message):
    """Well-formed arguments that the splits or the other arguments rule out: one line, without argparse's usage."""
    result = train(tmp_path, *dataset, *args)
    assert result.stderr == f"error: {message.format(splits=dataset[1])}\n"
    assert result.returncode == 2 and not (tmp_path / "exp").exists()


BAD_FEATURES = {
    "missing": (None, "video_2: no 'features' dataset"),
    "1-D": (np.zeros(20, np.float32), "video_2/features: expected a 2-D array"),
    "wrong width": (np.zeros((20, 9), np.float32), "video_2/features: width 9 does not match --input_size 8"),
    "empty": (np.zeros((0, 8), np.float32), "video_2/features: empty"),
    "NaN": (np.full((20, 8), np.nan, np.float32), "video_2/features: contains NaN or infinite values"),
    "Inf": (np.full((20, 8), np.inf, np.float32), "video_2/features: contains NaN or infinite values"),
    "text": (np.array([b"abc"] * 20), "video_2/features"),
}


@pytest.mark.parametrize("case", sorted(BAD_FEATURES))
def test_bad_features_name_the_file_and_video(train, tmp_path, dataset, case):
    _, splits = dataset
    features, message = BAD_FEATURES[case]
    videos = {k: tiny_video(seed=i) for i, k in enumerate(KEYS)}
    if features is None:
        del videos["video_2"]["features"]
    else:
        videos["video_2"]["features"] = features
    h5 = write_h5(tmp_path / "bad.h5", videos)
    assert_user_error(train(tmp_path, h5, splits), str(h5), message)
    assert not (tmp_path / "exp").exists()


def test_missing_or_foreign_files(train, tmp_path, dataset):
    h5, splits = dataset
    missing = train(tmp_path, tmp_path / "nope.h5", splits)
    assert_user_error(missing, "nope.h5: dataset file not found")
    assert missing.stdout == ""  # the inputs are checked before the run's header is printed
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    assert_user_error(train(tmp_path, text, splits), "text.h5: not an HDF5 file")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(h5.read_bytes()[:3000])
    assert_user_error(train(tmp_path, truncated, splits), "truncated.h5")
    absent = write_h5(tmp_path / "four.h5", {k: tiny_video() for k in KEYS[:4]})
    assert_user_error(train(tmp_path, absent, splits), f"{splits}: video video_5 is not in the dataset {absent}")
    bad_splits = tmp_path / "bad_splits.json"
    bad_splits.write_text('[{"train_keys": ["video_1"]')
    result = train(tmp_path, h5, bad_splits)
    assert result.returncode == 2 and "bad_splits.json: not valid JSON, truncated or corrupt?" in result.stderr
    assert not (tmp_path / "exp").exists()


def test_command_line_errors_have_no_traceback(tmp_path, dataset):
    _, splits = dataset
    result = run_script("model/main.py", *train_args(tmp_path, tmp_path / "nope.h5", splits))
    assert_user_error(result, "nope.h5: dataset file not found")


def test_split_scripts_check_their_inputs_first(tmp_path):
    for script in ("run_summe_splits.sh", "run_tvsum_splits.sh"):
        result = subprocess.run(["bash", str(REPO / script), "--dataset_file", tmp_path / "none.h5"],
                                capture_output=True, text=True)
        assert_user_error(result, "none.h5: dataset file not found", "data/download.py")


def test_a_dataset_that_means_nothing_trains_with_a_warning(train, tmp_path, dataset):
    """A file from make_dataset_from_videos.py --random_backbone (its `backbone` attribute) and videos whose features
    are the same at every frame (wrong backbone weights) train, each with one warning naming the file."""
    _, splits = dataset
    videos = {k: tiny_video(seed=i) for i, k in enumerate(KEYS)}
    videos["video_2"]["features"] = np.full((20, 8), 1e-12, np.float32)
    h5 = write_h5(tmp_path / "flat.h5", videos)
    result = train(tmp_path, h5, splits)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"warning: {h5}: the features of 1 of these 5 videos are (nearly) the same at every frame: backbone weights "
        f"that are not torchvision's ImageNet GoogLeNet, or still videos; training on them learns nothing"]
    with h5py.File(h5, "a") as f:
        f.attrs["backbone"] = "random"
    result = train(tmp_path, h5, splits, "--overwrite")
    assert result.stderr.splitlines()[0] == (
        f"warning: {h5}: its features come from a GoogLeNet of random weights (make_dataset_from_videos.py "
        f"--random_backbone): what is trained or evaluated on it means nothing")
    assert train(tmp_path, *dataset, "--exp_dir", tmp_path / "other").stderr == ""
