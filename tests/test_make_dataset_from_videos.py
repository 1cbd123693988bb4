"""data/make_dataset_from_videos.py: a folder of videos (and an annotations CSV) becomes a dataset h5 and splits
that train and evaluate; reruns add only the new videos; bad inputs are one line naming the file."""
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

for _module in ("av", "torchvision", "matplotlib"):
    pytest.importorskip(_module, reason=f"{_module} is not installed (the video path: requirements-video.txt)")

from common.errors import UserError
from common.splits import load_splits
from data import make_dataset_from_videos as builder
from inference.video import dataset
from tests.video_files import CUTS, REPO, make_weights, write_video

LENGTHS = {"a.mp4": 300, "b.mp4": 330, "c.mp4": 360}  # frames at 30 fps: three scenes each
ANNOTATIONS = """video,annotator,start_seconds,end_seconds
a.mp4,ann1,0,1.5
a.mp4,ann2,6,7
b,ann1,2,3
b,ann1,9,10.5
b,ann2,0,1
c.mp4,ann1,5.5,7
c.mp4,ann2,10,12
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The dataset of a folder of three videos with annotations; and the weights."""
    root = tmp_path_factory.mktemp("dataset")
    (root / "videos").mkdir()
    for name, n in LENGTHS.items():
        write_video(root / "videos" / name, n, audio=False)
    (root / "ann.csv").write_text(ANNOTATIONS)
    backbone, _ = make_weights(root)
    builder.main([str(root / "videos"), "--out", str(root / "my.h5"), "--annotations", str(root / "ann.csv"),
                  "--backbone_weights", str(backbone)])
    return root, backbone


def test_the_h5_has_the_benchmark_layout(built):
    root, _ = built
    with h5py.File(root / "my.h5", "r") as h5:
        assert sorted(h5) == ["video_1", "video_2", "video_3"]
        for key, (name, n) in zip(sorted(h5), LENGTHS.items()):
            group = h5[key]
            assert sorted(group) == ["change_points", "features", "gtscore", "n_frame_per_seg", "n_frames", "n_steps",
                                     "picks", "user_summary", "video_name"]
            assert group["video_name"][()].decode() == name
            assert (group["n_frames"][()], group["n_steps"][()]) == (n, -(-n // 15))
            assert group["picks"][()].tolist() == list(range(0, n, 15))
            assert group["features"].shape == (-(-n // 15), 1024) and group["features"].dtype == np.float32
            bounds = group["change_points"][()]
            assert bounds[0, 0] == 0 and bounds[-1, 1] == n - 1 and (bounds[1:, 0] == bounds[:-1, 1] + 1).all()
            # the scene cuts followed by 3 s of their scene, found by KTS (it joins a.mp4's and b.mp4's last scenes, of
            # 1 and 2 s, to the scene before)
            assert {c for c in CUTS if 0 < c <= n - 90} <= set(bounds[:, 0].tolist())
            assert (bounds[:, 1] - bounds[:, 0] + 1).min() <= int(0.15 * n)  # a shot fits the evaluation's budget
            assert group["n_frame_per_seg"][()].tolist() == (bounds[:, 1] - bounds[:, 0] + 1).tolist()
        users = h5["video_2"]["user_summary"][()]
        assert users.shape == (2, 330)
        expected = np.zeros((2, 330))
        expected[0, 60:90] = expected[0, 270:315] = expected[1, 0:30] = 1
        assert (users == expected).all()
        assert h5["video_2"]["gtscore"][()].tolist() == expected[:, ::15].mean(axis=0).tolist()


def test_splits_are_five_seeded_80_20(built):
    root, _ = built
    splits = load_splits(root / "my_splits.json")
    assert len(splits) == 5
    for split in splits:
        assert len(split["test_keys"]) == 1 and len(split["train_keys"]) == 2
        assert sorted(split["train_keys"] + split["test_keys"]) == ["video_1", "video_2", "video_3"]
    assert {s["test_keys"][0] for s in splits} == {"video_1", "video_2", "video_3"}


def test_it_trains_two_epochs_and_evaluates(built, tmp_path):
    root, _ = built
    done = subprocess.run([sys.executable, str(REPO / "model" / "main.py"), "--dataset_file", str(root / "my.h5"),
                           "--splits_file", str(root / "my_splits.json"), "--n_epochs", "2", "--batch_size", "2",
                           "--exp_dir", str(tmp_path / "exp")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = tmp_path / "exp" / "reg0.6" / "SumMe" / "results" / "split0"
    test_key = load_splits(root / "my_splits.json")[0]["test_keys"][0]
    scores = json.loads((results / "SumMe_1.json").read_text())
    assert list(scores) == [test_key]
    done = subprocess.run([sys.executable, str(REPO / "evaluation" / "compute_fscores.py"), "--path", str(results),
                           "--dataset", "SumMe", "--eval", "max", "--dataset_file", str(root / "my.h5")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    fscores = [float(line) for line in (results / "f_scores.txt").read_text().split()]
    assert len(fscores) == 3 and all(0 <= f <= 100 for f in fscores)


def test_rerun_adds_only_new_videos_and_survives_a_broken_one(built, tmp_path, capsys):
    root, backbone = built
    folder = tmp_path / "more"
    folder.mkdir()
    write_video(folder / "d.mp4", 200, audio=False)
    (folder / "e.mp4").write_text("not a video\n")
    h5 = tmp_path / "my.h5"
    h5.write_bytes((root / "my.h5").read_bytes())
    before = h5py.File(h5, "r")["video_1"]["features"][()]
    with pytest.raises(UserError) as error:
        builder.main([str(root / "videos"), str(folder), "--out", str(h5), "--backbone_weights", str(backbone)])
    assert str(error.value) == f"1 of 5 videos failed: {folder / 'e.mp4'}"
    out, err = capsys.readouterr()
    assert out.count("skipped") == 3 and f"{folder / 'd.mp4'}: video_4," in out
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {folder / 'e.mp4'}: not a readable video (")
    with h5py.File(h5, "r") as file:
        assert sorted(file) == ["video_1", "video_2", "video_3", "video_4"]
        assert (file["video_1"]["features"][()] == before).all()
        assert "user_summary" not in file["video_4"]
    splits = load_splits(tmp_path / "my_splits.json")
    assert sorted(splits[0]["train_keys"] + splits[0]["test_keys"]) == ["video_1", "video_2", "video_3", "video_4"]


def test_one_video_makes_a_dataset_without_splits(built, tmp_path, capsys):
    root, backbone = built
    builder.main([str(root / "videos" / "a.mp4"), "--out", str(tmp_path / "one.h5"), "--backbone_weights",
                  str(backbone)])
    with h5py.File(tmp_path / "one.h5", "r") as file:
        assert sorted(file) == ["video_1"]
    assert not (tmp_path / "one_splits.json").exists()
    assert (f"wrote {tmp_path / 'one.h5'} (1 video); no {tmp_path / 'one_splits.json'}: splits need at least 2 "
            f"videos (run again with more)\n") in capsys.readouterr().out


def test_a_failure_while_writing_leaves_the_file_as_it_was(built, tmp_path, monkeypatch):
    root, backbone = built
    h5 = tmp_path / "my.h5"
    h5.write_bytes((root / "my.h5").read_bytes())
    write_video(tmp_path / "d.mp4", 200, audio=False)

    def interrupted(group, *args):
        group["features"] = np.zeros(3)
        raise KeyboardInterrupt

    monkeypatch.setattr(dataset, "write_group", interrupted)
    with pytest.raises(KeyboardInterrupt):
        builder.main([str(tmp_path / "d.mp4"), "--out", str(h5), "--backbone_weights", str(backbone)])
    assert h5.read_bytes() == (root / "my.h5").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.mp4", "my.h5"]


@pytest.mark.parametrize("csv, message", [
    ("video,who,start,end\n", "line 1: expected the header video,annotator,start_seconds,end_seconds"),
    (ANNOTATIONS + "a.mp4,ann1,1\n", "line 9: expected 4 fields (video,annotator,start_seconds,end_seconds), got 3"),
    (ANNOTATIONS + "a.mp4,ann1,x,2\n", "line 9: 'x' is not a time in seconds (a number >= 0)"),
    (ANNOTATIONS + "a.mp4,ann1,3,2\n", "line 9: end_seconds 2 is not after start_seconds 3"),
    (ANNOTATIONS + "z.mp4,ann1,1,2\n", "line 9: video 'z.mp4' is not one of the videos given"),
])
def test_annotation_errors_name_the_file_and_line(built, tmp_path, csv, message):
    """Checked before any video is decoded."""
    root, backbone = built
    (tmp_path / "bad.csv").write_text(csv)
    with pytest.raises(UserError) as error:
        builder.main([str(root / "videos"), "--out", str(tmp_path / "x.h5"), "--annotations",
                      str(tmp_path / "bad.csv"), "--backbone_weights", str(backbone)])
    assert str(error.value) == f"{tmp_path / 'bad.csv'}: {message}"
    assert not (tmp_path / "x.h5").exists()


def test_unreadable_or_unannotated_videos_fail_alone(built, tmp_path, capsys):
    """With annotations, a video that cannot be read is reported as unreadable (not as one without rows) and a
    readable one without rows as such; both are skipped and the others go on, as in summarize_video.py."""
    root, backbone = built
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("a.mp4", "c.mp4"):
        (folder / name).write_bytes((root / "videos" / name).read_bytes())
    write_video(folder / "one.mp4", 90, audio=False)  # one 3-second scene: cut to fit the budget
    (folder / "truncated.mp4").write_bytes((root / "videos" / "b.mp4").read_bytes()[:3000])
    rows = [line for line in ANNOTATIONS.splitlines() if not line.startswith(("b", "c.mp4"))]
    (tmp_path / "ann.csv").write_text("\n".join(rows + ["one.mp4,ann1,0,1"]) + "\n")
    with pytest.raises(UserError) as error:
        builder.main([str(folder), "--out", str(tmp_path / "x.h5"), "--annotations", str(tmp_path / "ann.csv"),
                      "--backbone_weights", str(backbone)])
    assert str(error.value) == f"2 of 4 videos failed: {folder / 'c.mp4'}, {folder / 'truncated.mp4'}"
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors[0] == (f"error: {tmp_path / 'ann.csv'}: no rows for video c.mp4 (every video needs its "
                         f"annotations)")
    assert errors[1].startswith(f"error: {folder / 'truncated.mp4'}: not a readable video (")
    assert (f"{folder / 'one.mp4'}: video_2, 6 sampled frames, 7 shots, 1 annotator\n  cut every shot longer than the "
            f"summary's budget (13 frames): 1 KTS shot became 7 shots\n") in out
    with h5py.File(tmp_path / "x.h5", "r") as h5:
        assert [h5[k]["video_name"][()].decode() for k in sorted(h5)] == ["a.mp4", "one.mp4"]


@pytest.mark.slow
def test_a_random_backbone_dataset_is_marked_and_never_mixed(built, tmp_path, capsys):
    """--random_backbone: the file's backbone attribute says "random", the command warns that the dataset means
    nothing, and a rerun with real weights into the same file is refused (and the other way round)."""
    root, backbone = built
    videos = [str(root / "videos" / name) for name in ("a.mp4", "b.mp4")]
    builder.main([*videos, "--out", str(tmp_path / "random.h5"), "--random_backbone"])
    assert "the dataset, and any model trained on it, mean nothing" in capsys.readouterr().err
    with h5py.File(tmp_path / "random.h5", "r") as h5:
        assert h5.attrs["backbone"] == "random" and len(h5) == 2
    with pytest.raises(UserError) as error:
        builder.main([*videos, "--out", str(tmp_path / "random.h5"), "--backbone_weights", str(backbone)])
    assert str(error.value) == (f"{tmp_path / 'random.h5'}: its features come from --random_backbone and mean "
                                f"nothing; use another --out")
    with pytest.raises(UserError) as error:
        builder.main([*videos, "--out", str(root / "my.h5"), "--random_backbone"])
    assert str(error.value) == (f"{root / 'my.h5'}: its features come from the ImageNet backbone, not "
                                f"--random_backbone; use another --out")


def test_command_line_error_is_one_line(built, tmp_path):
    root, backbone = built
    done = subprocess.run([sys.executable, str(REPO / "data" / "make_dataset_from_videos.py"), str(root / "videos"),
                           "--out", str(tmp_path / "x.h5"), "--annotations", str(tmp_path / "none.csv")],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == f"error: {tmp_path / 'none.csv'}: annotations file not found\n"


def test_an_interval_after_the_end_fails_that_video(built, tmp_path, capsys):
    root, backbone = built
    rows = [line for line in ANNOTATIONS.splitlines() if not line.startswith("c.mp4")]
    (tmp_path / "late.csv").write_text("\n".join(rows + ["a.mp4,ann3,10.5,11"]) + "\n")
    with pytest.raises(UserError) as error:
        builder.main([str(root / "videos" / "a.mp4"), str(root / "videos" / "b.mp4"), "--out", str(tmp_path / "x.h5"),
                      "--annotations", str(tmp_path / "late.csv"), "--backbone_weights", str(backbone)])
    assert str(error.value) == f"1 of 2 videos failed: {root / 'videos' / 'a.mp4'}"
    assert f"error: {tmp_path / 'late.csv'}: line 7: starts at 10.5 s, after the end of a.mp4 (10.000 s)\n" in (
        capsys.readouterr().err)
    with h5py.File(tmp_path / "x.h5", "r") as h5:
        assert [h5[k]["video_name"][()].decode() for k in h5] == ["b.mp4"]


def test_videos_of_the_same_name_and_a_foreign_out_file(built, tmp_path):
    root, backbone = built
    (tmp_path / "other").mkdir()
    write_video(tmp_path / "other" / "a.mp4", 30, audio=False)
    with pytest.raises(UserError) as error:
        builder.main([str(root / "videos"), str(tmp_path / "other"), "--out", str(tmp_path / "x.h5")])
    assert str(error.value) == (f"{tmp_path / 'other' / 'a.mp4'}: another video has the same name "
                                f"({root / 'videos' / 'a.mp4'}); rename one of them")
    (tmp_path / "x.h5").write_text("not hdf5\n")
    with pytest.raises(UserError) as error:
        builder.main([str(root / "videos"), "--out", str(tmp_path / "x.h5")])
    assert str(error.value) == f"{tmp_path / 'x.h5'}: not an HDF5 file"
    with h5py.File(tmp_path / "y.h5", "w") as h5:
        h5["video_1/features"] = np.zeros((2, 4))
    with pytest.raises(UserError) as error:
        builder.main([str(root / "videos"), "--out", str(tmp_path / "y.h5")])
    assert str(error.value) == (f"{tmp_path / 'y.h5'}: video_1: no video_name: not a file this command wrote; use "
                                f"another --out")
