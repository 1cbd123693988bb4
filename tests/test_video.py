"""inference/summarize_video.py end to end, on a synthetic video with known cuts and on real clips, offline
(the videos and weights: tests/video_files.py)."""
import html
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

for _module in ("av", "torchvision", "matplotlib"):
    pytest.importorskip(_module, reason=f"{_module} is not installed (the video path: requirements-video.txt)")
import av
import torchvision

from common.errors import UserError
from inference import summarize_video
from inference.video import summarizer
from inference.video.decode import VideoReader
from inference.video.features import weights_warning
from model.layers.summarizer import CA_SUM
from tests.video_files import (
    CUTS,
    FPS,
    HEIGHT,
    REPO,
    TONE_RATE,
    WIDTH,
    decoded_audio,
    decoded_frames,
    make_weights,
    read_index,
    real_clip,
    scene_of,
    tone,
    write_video,
)

SCRIPT = REPO / "inference" / "summarize_video.py"


def run_cli(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          cwd=REPO.parent)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The synthetic video, a random test backbone and a random CA-SUM checkpoint."""
    root = tmp_path_factory.mktemp("video")
    video = write_video(root / "scenes.mp4", CUTS[-1])
    backbone, checkpoint = make_weights(root)
    return {"root": root, "video": video, "backbone": backbone, "checkpoint": checkpoint}


def summarize(files, video, out, *extra):
    summarize_video.main([str(video), "--checkpoint", str(files["checkpoint"]), "--backbone_weights",
                          str(files["backbone"]), "-o", str(out), *map(str, extra)])
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def synthetic(files):
    out = files["root"] / "scenes_summary"
    return out, summarize(files, files["video"], out, "--summary_ratio", 0.4, "--save_h5")


def selected_frames(record):
    return [i for shot in record["shots"] if shot["selected"]
            for i in range(shot["start_frame"], shot["end_frame"] + 1)]


def test_change_points_land_on_the_cuts(synthetic):
    _, record = synthetic
    assert [shot["start_frame"] for shot in record["shots"]] == CUTS[:-1]
    assert [shot["end_frame"] for shot in record["shots"]] == [c - 1 for c in CUTS[1:]]
    assert [shot["start_sec"] for shot in record["shots"]] == [c / FPS for c in CUTS[:-1]]
    assert [shot["end_sec"] for shot in record["shots"]] == [c / FPS for c in CUTS[1:]]
    assert [(shot["origin"], shot["kts_shot"]) for shot in record["shots"]] == [("kts", k) for k in range(6)]


def test_summary_json_describes_the_video(synthetic, files):
    _, record = synthetic
    assert record["video"] == str(files["video"].resolve())
    assert record["checkpoint"] == str(files["checkpoint"].resolve())
    assert (record["fps"], record["n_frames"], record["duration_sec"]) == (30.0, 900, 30.0)
    assert record["summary_ratio"] == 0.4
    assert record["sampled_frames"] == list(range(0, 900, 15))
    assert len(record["frame_scores"]) == 60 and all(0 < s < 1 for s in record["frame_scores"])
    for shot in record["shots"]:
        frames = [s for f, s in zip(record["sampled_frames"], record["frame_scores"])
                  if shot["start_frame"] <= f <= shot["end_frame"]]
        assert shot["score"] == pytest.approx(np.mean(frames), rel=1e-6)


def test_summary_is_whole_shots_within_budget_and_the_source_frames_in_order(synthetic):
    out, record = synthetic
    wanted = selected_frames(record)
    assert 0 < len(wanted) <= int(0.4 * 900)
    frames = decoded_frames(out / "summary.mp4")
    assert [read_index(f) for f in frames] == wanted
    with av.open(str(out / "summary.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", WIDTH, HEIGHT)
        assert float(stream.average_rate) == FPS


def test_summary_audio_follows_the_selected_shots(synthetic):
    out, record = synthetic
    samples, rate = decoded_audio(out / "summary.mp4")
    assert rate == TONE_RATE
    assert abs(len(samples) / rate - len(selected_frames(record)) / FPS) < 0.1
    position = 0.0
    for shot in (s for s in record["shots"] if s["selected"]):
        length = shot["end_sec"] - shot["start_sec"]
        middle = samples[int((position + length / 2 - 0.25) * rate):int((position + length / 2 + 0.25) * rate)]
        spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
        peak = np.fft.rfftfreq(len(middle), 1 / rate)[spectrum.argmax()]
        assert abs(peak - tone(scene_of(shot["start_frame"]))) < 10
        position += length


def test_importance_plot_is_a_png(synthetic):
    out, _ = synthetic
    assert (out / "importance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_importance_curve_stays_visible_at_the_limits(tmp_path, value):
    """A constant curve at 0 or 1 is drawn inside the axes, not hidden under their border, and the legend is
    outside them: the curve's colour shows along the whole plot's width."""
    import matplotlib.image

    from inference.video.plot import plot_importance

    shots = [{"start_sec": 0.0, "end_sec": 5.0, "selected": True}, {"start_sec": 5.0, "end_sec": 10.0,
                                                                    "selected": False}]
    plot_importance(tmp_path / "p.png", "constant", np.arange(20) / 2, np.full(20, value), shots, 10.0)
    rgb = matplotlib.image.imread(tmp_path / "p.png")[..., :3]
    blue = rgb[..., 2] - rgb[..., 0] > 0.25  # the curve's tab:blue, antialiased; white and orange are not
    columns = np.flatnonzero(blue.any(axis=0))
    rows = np.flatnonzero(blue.sum(axis=1) > 0.5 * (columns.max() - columns.min()))
    assert len(rows) and columns.max() - columns.min() > 0.7 * rgb.shape[1]


@pytest.mark.slow
def test_saved_h5_has_the_dataset_layout_and_trains(synthetic, files, tmp_path):
    out, record = synthetic
    with h5py.File(out / "dataset.h5", "r") as h5:
        group = h5["video_1"]
        assert sorted(group) == ["change_points", "features", "n_frame_per_seg", "n_frames", "n_steps", "picks",
                                 "video_name"]
        assert group["features"].shape == (60, 1024) and group["features"].dtype == np.float32
        assert group["picks"][()].tolist() == record["sampled_frames"]
        assert (group["n_steps"][()], group["n_frames"][()]) == (60, 900)
        assert group["change_points"][()].tolist() == [[s["start_frame"], s["end_frame"]] for s in record["shots"]]
        assert group["n_frame_per_seg"][()].tolist() == np.diff(CUTS).tolist()
        assert group["video_name"][()].decode() == "scenes.mp4"
        features = torch.from_numpy(group["features"][()])
    model = CA_SUM(1024, 1024, 60)
    model.load_state_dict(torch.load(files["checkpoint"]))
    assert model.score_frames(features).numpy() == pytest.approx(np.array(record["frame_scores"]), abs=1e-6)
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps([{"train_keys": ["video_1"], "test_keys": ["video_1"]}]))
    done = subprocess.run([sys.executable, str(REPO / "model" / "main.py"), "--dataset_file", str(out / "dataset.h5"),
                           "--splits_file", str(splits), "--n_epochs", "1", "--batch_size", "1",
                           "--exp_dir", str(tmp_path / "exp")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    scores = json.loads((tmp_path / "exp/reg0.6/SumMe/results/split0/SumMe_0.json").read_text())
    assert len(scores["video_1"]) == 60


def test_score_frames_equals_forward():
    """The long-video path (chunked above 2,048 frames, or forced with dense_limit=0) gives forward's scores."""
    torch.manual_seed(1)
    model = CA_SUM(128, 128, 60).eval()
    for T, dense_limit in ((1, 0), (45, 0), (300, 0), (2100, 2048)):
        x = torch.rand(T, 128)
        with torch.no_grad():
            expected = model(x)[0].view(-1)
        assert torch.allclose(model.score_frames(x, dense_limit=dense_limit), expected, atol=1e-6)


@pytest.mark.slow
def test_default_budget_and_no_timestamps(files, tmp_path):
    """A raw H.264 stream has no timestamps: frames are numbered as decoded and summary.mp4 decodes from the start."""
    video = write_video(tmp_path / "scenes.h264", CUTS[-1], audio=False, fmt="h264")
    record = summarize(files, video, tmp_path / "out")
    wanted = selected_frames(record)
    assert 0 < len(wanted) <= int(0.15 * 900)
    assert [read_index(f) for f in decoded_frames(tmp_path / "out" / "summary.mp4")] == wanted
    with av.open(str(tmp_path / "out" / "summary.mp4")) as container:
        assert not container.streams.audio


def write_plain_video(path, rate, n_frames):
    """A tiny grey video at frame rate `rate` (a Fraction), one timestamp per frame."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=rate, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i % 256, np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, 1 / rate
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


@pytest.mark.parametrize("rate", [Fraction(30), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(10)])
def test_two_frames_per_second_by_timestamp(tmp_path, rate):
    """Every 15th frame at 30 fps; otherwise the first frame at or after each half second."""
    n_frames = 1100
    reader = VideoReader(write_plain_video(tmp_path / "plain.mp4", rate, n_frames))
    assert all(frame.shape == (224, 224, 3) for _, frame in reader.sampled_frames())
    timeline = reader.timeline
    times = [Fraction(i) / rate for i in range(n_frames)]
    expected = sorted({next(i for i, t in enumerate(times) if t >= Fraction(k, 2))
                       for k in range(int(2 * times[-1]) + 1)})
    assert timeline.picks.tolist() == expected
    assert (timeline.n_frames, timeline.rate) == (n_frames, rate)
    assert timeline.duration == pytest.approx(n_frames / rate)
    if rate == 30:
        assert expected == list(range(0, n_frames, 15))


def test_cuda_device_without_cuda(files, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    message = user_error(files, tmp_path, files["video"], "--device", "cuda")
    assert message == "--device cuda: no CUDA device is available (use --device cpu or auto)"


@pytest.mark.slow
def test_real_clip_with_audio(files, tmp_path):
    """Big Buck Bunny (5.3 s, 25 fps, 720p, AAC): one continuous shot, so the whole clip at --summary_ratio 1."""
    video = real_clip("bigbuckbunny.mp4")
    record = summarize(files, video, tmp_path, "--summary_ratio", 1)
    assert (record["fps"], record["n_frames"]) == (25.0, 132)
    assert record["sampled_frames"] == [0, 13, 25, 38, 50, 63, 75, 88, 100, 113, 125]
    assert record["shots"][0]["start_frame"] == 0 and record["shots"][-1]["end_frame"] == 131
    assert all(a["end_frame"] + 1 == b["start_frame"] for a, b in zip(record["shots"], record["shots"][1:]))
    wanted = selected_frames(record)
    source = decoded_frames(video)
    summary = decoded_frames(tmp_path / "summary.mp4")
    assert len(summary) == len(wanted)
    errors = [np.abs(s.astype(np.int16) - source[i].astype(np.int16)).mean() for i, s in zip(wanted, summary)]
    assert max(errors) < 3
    samples, rate = decoded_audio(tmp_path / "summary.mp4")
    assert abs(len(samples) / rate - len(wanted) / 25) < 0.1


def user_error(files, tmp_path, video, *extra, checkpoint=None):
    with pytest.raises(UserError) as error:
        summarize_video.main([str(video), "--checkpoint", str(checkpoint or files["checkpoint"]), "--backbone_weights",
                              str(files["backbone"]), "-o", str(tmp_path / "out"), *map(str, extra)])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    return str(error.value)


def test_missing_unreadable_and_audio_only_videos(files, tmp_path):
    assert user_error(files, tmp_path, tmp_path / "nope.mp4") == f"{tmp_path / 'nope.mp4'}: video file not found"
    (tmp_path / "text.mp4").write_text("not a video\n")
    message = user_error(files, tmp_path, tmp_path / "text.mp4")
    assert message.startswith(f"{tmp_path / 'text.mp4'}: not a readable video (")
    with av.open(str(tmp_path / "sound.m4a"), "w") as out:
        stream = out.add_stream("aac", rate=TONE_RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = TONE_RATE
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert user_error(files, tmp_path, tmp_path / "sound.m4a") == f"{tmp_path / 'sound.m4a'}: no video stream"


def test_checkpoint_for_other_features(files, tmp_path):
    torch.save(CA_SUM(64, 64, 60).state_dict(), tmp_path / "small.pt")
    message = user_error(files, tmp_path, files["video"], checkpoint=tmp_path / "small.pt")
    assert message.startswith(f"{tmp_path / 'small.pt'}: the checkpoint implies input_size 64")
    assert "1024-d" in message


def test_video_shorter_than_one_second(files, tmp_path):
    video = write_video(tmp_path / "short.mp4", 12, audio=False)
    assert user_error(files, tmp_path, video) == (f"{video}: video shorter than 1 s (12 frames, 0.40 s; 2 sampled "
                                                  f"frames are needed)")


@pytest.mark.slow
def test_long_shots_are_cut_at_sampled_frames(files, tmp_path, capsys):
    """--max_shot_seconds 2: each scene (one KTS shot, 8 to 12 sampled frames) is cut into the fewest equal parts of
    at most 4 sampled frames, at sampled frames; the summary stays within the budget."""
    record = summarize(files, files["video"], tmp_path, "--max_shot_seconds", 2)
    shots = record["shots"]
    assert [s["start_frame"] for s in shots][0] == 0 and shots[-1]["end_frame"] == CUTS[-1] - 1
    assert all(a["end_frame"] + 1 == b["start_frame"] for a, b in zip(shots, shots[1:]))
    for scene, (first, stop) in enumerate(zip(CUTS[:-1], CUTS[1:])):
        parts = [s for s in shots if s["kts_shot"] == scene]
        samples = (stop - first) // 15
        assert len(parts) == -(-samples // 4)
        assert (parts[0]["start_frame"], parts[-1]["end_frame"]) == (first, stop - 1)
        lengths = [(s["end_frame"] - s["start_frame"] + 1) // 15 for s in parts]
        assert max(lengths) <= 4 and max(lengths) - min(lengths) <= 1 and sum(lengths) == samples
        assert all(s["start_frame"] % 15 == 0 and s["origin"] == "cut" for s in parts)
    assert 0 < len(selected_frames(record)) <= int(0.15 * 900)
    assert record["max_shot_seconds"] == 2
    assert "cut 6 KTS shots longer than 2 s: 6 KTS shots became 16 shots\n" in capsys.readouterr().out


def test_single_shot_clip_gets_a_summary_within_the_budget(files, tmp_path, capsys):
    """bigbuckbunny.mp4 (5.3 s, 25 fps, one KTS shot): shots cut to fit 15% of the frames, the summary within it.
    (Not bikes.mp4: with the random backbone, exact KTS makes each of its sampled frames a shot.)"""
    video = real_clip("bigbuckbunny.mp4")
    record = summarize(files, video, tmp_path)
    budget = int(0.15 * record["n_frames"])
    assert (record["n_frames"], budget) == (132, 19)
    assert [s["kts_shot"] for s in record["shots"]] == [0] * len(record["shots"])
    lengths = [s["end_frame"] - s["start_frame"] + 1 for s in record["shots"]]
    assert min(lengths) <= budget and any(s["origin"] == "cut" for s in record["shots"])
    wanted = selected_frames(record)
    assert 0 < len(wanted) <= budget
    assert len(decoded_frames(tmp_path / "summary.mp4")) == len(wanted)
    printed = capsys.readouterr().out
    assert f"cut every shot longer than the summary's budget ({budget} frames): 1 KTS shot became " in printed


def test_one_second_video_gets_a_summary(files, tmp_path):
    """30 frames at the default 0.15: a budget of 4 frames, less than the 15 frames between two sampled frames."""
    video = write_video(tmp_path / "second.mp4", 30, audio=False)
    record = summarize(files, video, tmp_path / "out")
    lengths = [s["end_frame"] - s["start_frame"] + 1 for s in record["shots"]]
    assert sum(lengths) == 30 and max(lengths) <= 4 and max(lengths) - min(lengths) <= 1
    assert 0 < len(selected_frames(record)) <= 4
    assert [read_index(f) for f in decoded_frames(tmp_path / "out" / "summary.mp4")] == selected_frames(record)


def test_budget_of_no_frame(files, tmp_path):
    video = write_video(tmp_path / "second.mp4", 30, audio=False)
    assert user_error(files, tmp_path, video, "--summary_ratio", "0.01") == (
        f"{video}: a summary of 0.01 of 30 frames holds no frame: raise --summary_ratio to at least 0.034")


@pytest.mark.slow
def test_weights_of_the_right_shapes_but_wrong_values_are_warned_about(files, tmp_path, capsys):
    """torchvision's GoogLeNet as initialised, untrained: features around 1e-12 and one score for every frame. The
    command says that the file is not torchvision's ImageNet one, that the features and the scores are flat, on the
    terminal and in summary.json, summary.html, importance.png and the printout; and still writes the summary."""
    torch.manual_seed(0)
    untrained = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True)
    torch.save(untrained.state_dict(), tmp_path / "untrained.pth")
    out = tmp_path / "out"
    summarize_video.main([str(files["video"]), "--checkpoint", str(files["checkpoint"]), "--backbone_weights",
                          str(tmp_path / "untrained.pth"), "-o", str(out)])
    printed, err = capsys.readouterr()
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3
    assert warnings[0].startswith(f"warning: {tmp_path / 'untrained.pth'}: not torchvision's ImageNet GoogLeNet "
                                  f"weights googlenet-1378be20.pth (its SHA-256 starts with 1378be20, this file's "
                                  f"with ")
    assert warnings[1].startswith(f"warning: {files['video']}: the features of its 60 sampled frames are (nearly) "
                                  f"the same at every frame")
    assert warnings[2].startswith(f"warning: {files['video']}: CA-SUM's scores are (nearly) the same at every frame")
    record = json.loads((out / "summary.json").read_text())
    assert record["warnings"] == [line[len("warning: "):] for line in warnings]
    page = (out / "summary.html").read_text()
    assert page.count('<p class="warning">Warning: ') == 3
    assert ("  NOT THE IMAGENET BACKBONE: this summary may mean nothing\n  FEATURES ALL ALIKE: this summary means "
            "nothing\n  FLAT SCORES: this summary is not a choice\n") in printed


@pytest.mark.slow
def test_random_backbone_runs_offline_and_every_output_says_it_means_nothing(files, tmp_path, capsys, monkeypatch):
    """--random_backbone needs no weights file; summary.json, summary.html, importance.png and the printout say the
    summary means nothing, and a rerun with real weights redoes it instead of skipping it."""
    captions = []
    plot = summarizer.plot_importance
    monkeypatch.setattr(summarizer, "plot_importance", lambda *a: captions.append(a[6]) or plot(*a))
    out = tmp_path / "out"
    summarize_video.main([str(files["video"]), "--checkpoint", str(files["checkpoint"]), "--random_backbone", "-o",
                          str(out)])
    printed, err = capsys.readouterr()
    meaningless = ("made with a GoogLeNet of random weights (--random_backbone): the features, the scores and the "
                   "summary mean nothing; they only show that the pipeline runs (docs/video.md, \"Offline\")")
    assert f"warning: {meaningless}" in err.splitlines()
    record = json.loads((out / "summary.json").read_text())
    assert record["backbone"] == "random" and record["warnings"] == [meaningless]
    assert f'<p class="warning">Warning: {html.escape(meaningless)}</p>' in (out / "summary.html").read_text()
    assert captions == [["RANDOM BACKBONE: this summary means nothing"]]
    assert "  RANDOM BACKBONE: this summary means nothing\n" in printed
    assert len({shot["score"] for shot in record["shots"]}) > 1
    record = summarize(files, files["video"], out)
    # the tests' weights are not torchvision's file either: that is what the summary now says, not "random"
    assert record["backbone"] == str(files["backbone"].resolve())
    assert record["warnings"] == [weights_warning(files["backbone"])]


def test_backbone_weights_errors(files, tmp_path, monkeypatch):
    missing = tmp_path / "none.pt"
    message = user_error(files, tmp_path, files["video"], "--backbone_weights", missing)
    assert message.startswith(f"{missing}: backbone weights file not found; ") and "--random_backbone" in message
    message = user_error(files, tmp_path, files["video"], "--backbone_weights", files["checkpoint"])
    assert message == f"{files['checkpoint']}: not a torchvision GoogLeNet state_dict (no conv1.conv.weight)"
    state = torch.load(files["backbone"])
    state["inception4b.branch2.1.conv.weight"] = state["inception4b.branch2.1.conv.weight"][:, :100]
    torch.save(state, tmp_path / "cut.pt")
    message = user_error(files, tmp_path, files["video"], "--backbone_weights", tmp_path / "cut.pt")
    assert message == (f"{tmp_path / 'cut.pt'}: not a torchvision GoogLeNet state_dict (inception4b.branch2.1.conv."
                       f"weight has shape [224, 100, 3, 3], expected [224, 112, 3, 3])")

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(UserError) as error:
        summarize_video.main([str(files["video"]), "--checkpoint", str(files["checkpoint"]), "-o", str(tmp_path)])
    assert str(error.value) == ("https://download.pytorch.org/models/googlenet-1378be20.pth: cannot download the "
                                "GoogLeNet ImageNet weights (network is unreachable); download that file elsewhere "
                                "and pass it with --backbone_weights PATH")


def test_failure_while_writing_leaves_nothing(files, tmp_path, monkeypatch):
    def broken(source, target, timeline, runs, preset):
        Path(target).write_bytes(b"half a video")
        raise UserError(f"{target}: cannot encode the summary video (disk full)")

    monkeypatch.setattr(summarizer, "write_summary_video", broken)
    assert "disk full" in user_error(files, tmp_path, files["video"], "--save_h5")


def test_command_line_error_is_one_line(files, tmp_path):
    done = run_cli(tmp_path / "missing.mp4", "--checkpoint", files["checkpoint"])
    assert done.returncode == 2
    assert done.stderr == f"error: {tmp_path / 'missing.mp4'}: video file not found\n"
    both = run_cli(tmp_path / "missing.mp4", "--checkpoint", tmp_path / "missing.pt")  # every missing file at once
    assert both.returncode == 2
    assert both.stderr.startswith(f"error: {tmp_path / 'missing.mp4'}: video file not found\n"
                                  f"error: {tmp_path / 'missing.pt'}: checkpoint file not found; use a released model")


@pytest.mark.slow
def test_batch_survives_a_broken_file_and_a_rerun_skips_the_finished(files, tmp_path, monkeypatch, capsys):
    """A folder of three short videos (two of the same stem) and a broken one: the backbone and the checkpoint are
    loaded once, the good videos are summarized into OUT/{stem}/, the broken one is one line, the command fails at
    the end naming it; a rerun skips the finished videos and redoes one whose outputs are incomplete."""
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("a.mp4", "a.mkv", "b.mp4"):
        write_video(folder / name, 90, audio=False)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    (folder / "notes.txt").write_text("not a video\n")
    loads = []
    load_backbone = summarizer.load_backbone
    monkeypatch.setattr(summarizer, "load_backbone", lambda *a: loads.append(a) or load_backbone(*a))
    out = tmp_path / "out"
    args = [str(folder), "--checkpoint", str(files["checkpoint"]), "--backbone_weights", str(files["backbone"]),
            "-o", str(out)]
    with pytest.raises(UserError) as error:
        summarize_video.main(args)
    assert str(error.value) == f"1 of 4 videos failed: {folder / 'broken.mp4'}"
    assert len(loads) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {folder / 'broken.mp4'}: not a readable video (")
    assert sorted(p.name for p in out.iterdir()) == ["a", "a-2", "b"]
    for stem, name in (("a", "a.mkv"), ("a-2", "a.mp4"), ("b", "b.mp4")):
        record = json.loads((out / stem / "summary.json").read_text())
        assert record["video"] == str((folder / name).resolve())
        assert sorted(p.name for p in (out / stem).iterdir()) == sorted(summarizer.OUTPUTS)
    (out / "b" / "summary.html").unlink()
    done = run_cli(*args)
    assert done.returncode == 2
    assert f"{folder / 'a.mkv'}: already summarized in {out / 'a'}, skipped" in done.stdout
    assert f"{folder / 'a.mp4'}: already summarized in {out / 'a-2'}, skipped" in done.stdout
    assert f"{folder / 'b.mp4'}: 1 of " in done.stdout and (out / "b" / "summary.html").is_file()
    assert done.stderr.splitlines()[-1] == f"error: 1 of 4 videos failed: {folder / 'broken.mp4'}"


def test_input_errors_name_the_path(files, tmp_path):
    (tmp_path / "empty").mkdir()
    done = run_cli(tmp_path / "empty", "--checkpoint", files["checkpoint"])
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"error: {tmp_path / 'empty'}: no video files in this folder (extensions: ")


def test_backbone_computes_torchvisions_googlenet(files):
    """googlenet.py's fused network gives torchvision's GoogLeNet pool5 features (eval mode, input normalised as
    embed does) on the test video's frames, to float32 rounding."""
    from inference.video.features import embed, load_backbone

    frames = np.stack([rgb for _, rgb in VideoReader(files["video"]).sampled_frames()][:12])
    reference = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
    reference.load_state_dict(torch.load(files["backbone"]))
    reference.fc = torch.nn.Identity()
    with torch.no_grad():
        expected = reference.eval()(torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1).numpy()
    features = embed(load_backbone(files["backbone"]), frames, "cpu").numpy()
    assert np.abs(expected).max() > 1 and np.abs(np.diff(expected, axis=0)).max() > 1e-2
    assert np.allclose(features, expected, rtol=1e-5, atol=1e-4)


def test_summarize_video_does_not_import_torchvision(files):
    """The command builds its network itself (googlenet.py): torchvision would cost over a second at every start."""
    done = subprocess.run([sys.executable, "-c", "import sys, inference.summarize_video; "
                           "print('torchvision' in sys.modules)"], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_feature_rows_grow_past_their_capacity_in_order():
    from inference.video.analysis import Rows

    rows = Rows(3, 2)
    blocks = [np.arange(k * 3, dtype=np.float32).reshape(k, 3) + 100 * i for i, k in enumerate((2, 3, 1, 4))]
    for block in blocks:
        rows.append(block)
    assert rows.array().dtype == np.float32
    assert np.array_equal(rows.array(), np.concatenate(blocks))
    assert Rows(1024, 0).array().shape == (0, 1024)


@pytest.mark.slow
def test_parallel_features_keep_the_frame_order(files):
    """Decoding thread and one backbone thread per core give each sampled frame its own features, in order."""
    from inference.video.analysis import backbone_workers, extract_features
    from inference.video.features import embed, load_backbone

    backbone = load_backbone(files["backbone"])
    frames = np.stack([rgb for _, rgb in VideoReader(files["video"]).sampled_frames()])
    expected = np.concatenate([embed(backbone, frames[i:i + 4], "cpu").numpy() for i in range(0, len(frames), 4)])
    seconds = {}
    torch.set_num_threads(2)
    assert backbone_workers(torch.device("cpu")) == min(2, len(os.sched_getaffinity(0)))
    features = extract_features(VideoReader(files["video"]), backbone, torch.device("cpu"), 4, seconds)
    assert features.shape == (60, 1024)
    assert np.allclose(features, expected, rtol=1e-4, atol=1e-5)
    assert np.abs(np.diff(features, axis=0)).max() > 1e-3  # the frames' features differ: order matters
    assert set(seconds) == {"decode", "features", "decode+features"}
