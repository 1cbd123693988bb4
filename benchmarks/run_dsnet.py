"""Runs li-plus/DSNet's own-video pipeline unchanged, on the CPU and with a given GoogLeNet weights file, for
benchmarks/bench_vs_dsnet.py: tensors' and modules' .cuda() return themselves, and torchvision's download of the
ImageNet weights returns the file's tensors instead (with the auxiliary classifiers, which DSNet drops, at their
initial weights). Nothing of DSNet's is copied: its files run from the checkout given.

Denormal floats are flushed to zero (torch.set_flush_denormal): with the benchmark's random weights, DSNet's
one-frame convolutions (PyTorch's default layout) otherwise meet denormal activations and run about 4x slower (477
against 108 ms a frame on the 2-core machine of docs/video.md), a cost that trained weights need not have; this
project's backbone (oneDNN, channels-last) does not meet it.

    python benchmarks/run_dsnet.py DSNET WEIGHTS make_dataset --video-dir D --label-dir L --save-path OUT.h5
    python benchmarks/run_dsnet.py DSNET WEIGHTS inputs VIDEO OUT.npy

`inputs` saves the 224x224 RGB images (uint8) that DSNet's FeatureExtractor gives its network for every 15th frame,
as its own VideoPreprocessor samples them (OpenCV decoding every frame, BGR to RGB, then its PIL preprocessing).
"""
import runpy
import sys
from pathlib import Path

import numpy as np
import torch
import torchvision
from torchvision.models.googlenet import InceptionAux


def point_at(weights: Path) -> None:
    """DSNet's .cuda() calls keep tensors and modules where they are, its pretrained GoogLeNet gets `weights`, and
    denormal floats are flushed to zero (module docstring)."""
    torch.set_flush_denormal(True)
    torch.nn.Module.cuda = lambda self, *args, **kwargs: self
    torch.Tensor.cuda = lambda self, *args, **kwargs: self

    def state(*args, **kwargs):
        tensors = dict(torch.load(weights))
        for name, channels in (("aux1", 512), ("aux2", 528)):
            aux = InceptionAux(channels, 1000).state_dict()
            tensors.update({f"{name}.{key}": value for key, value in aux.items()})
        return tensors

    torchvision.models._api.load_state_dict_from_url = state


def inputs(video: Path, out: Path) -> None:
    """Save the images DSNet's own VideoPreprocessor gives its network (every 15th frame): its FeatureExtractor.run is
    wrapped to keep each preprocessed image instead of running the network on it."""
    from helpers import video_helper
    from PIL import Image

    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    images = []

    def keep(self, img):
        x = self.preprocess(Image.fromarray(img))  # ToTensor, then Normalize: undone to 0..255
        images.append(torch.round((x.permute(1, 2, 0) * std + mean) * 255).to(torch.uint8).numpy())
        return np.zeros(1024, np.float32)

    video_helper.FeatureExtractor.run = keep
    video_helper.VideoPreprocessor(15).get_features(video)
    np.save(out, np.stack(images))


def main() -> None:
    dsnet, weights, mode, rest = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4:]
    point_at(weights)
    sys.path.insert(0, str(dsnet / "src"))
    if mode == "inputs":
        inputs(Path(rest[0]), Path(rest[1]))
        return
    sys.argv = [str(dsnet / "src" / "make_dataset.py"), *rest]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
