"""GoogLeNet pool5 features (1024-d, ImageNet weights) of the sampled frames, as the benchmark datasets hold them.

The backbone is torchvision's ImageNet GoogLeNet up to its global average pooling (googlenet.py: the network, with
every convolution fused with its batch normalisation for speed on CPUs). It runs in channels-last layout, under
inference_mode, in batches of a few frames (analysis.py feeds them while the next ones decode). A weights file that
is not torchvision's (its SHA-256 differs) is used, with a warning: weights of the right shapes but other values
give features that mean nothing. `--random_backbone` builds such a network on purpose, to try the pipeline offline.
"""
import urllib.error
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from common.errors import UserError
from common.fileio import file_sha256
from inference.video.googlenet import GoogLeNetPool5
from model.checkpoints import torch_load

# torchvision's GoogLeNet_Weights.IMAGENET1K_V1: the file name carries the start of its SHA-256, which the download
# checks.
WEIGHTS_URL = "https://download.pytorch.org/models/googlenet-1378be20.pth"
WEIGHTS_SHA256_START = WEIGHTS_URL.rsplit("-", 1)[1].split(".")[0]
RANDOM_SOURCE = "a GoogLeNet of random weights (--random_backbone)"  # names it in errors
CALIBRATION_FRAMES = 8


def read_backbone_state(path: Path) -> dict:
    """The state_dict of a local copy of torchvision's GoogLeNet weights (e.g. googlenet-1378be20.pth); whether it
    is that file is weights_warning's question."""
    state = torch_load(path, "backbone weights file")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{path}: not a GoogLeNet state_dict (expected a dict of tensors)")
    return state


def weights_warning(path: Path | None) -> str | None:
    """The warning for a weights file that is not torchvision's googlenet-1378be20.pth (by its SHA-256), else None
    (also for None: the download is checked by torch)."""
    if path is None:
        return None
    digest = file_sha256(path)
    if digest.startswith(WEIGHTS_SHA256_START):
        return None
    return (f"{path}: not torchvision's ImageNet GoogLeNet weights {Path(WEIGHTS_URL).name} (its SHA-256 starts "
            f"with {WEIGHTS_SHA256_START}, this file's with {digest[:8]}): unless these are the same weights saved "
            f"again, the features, and everything made from them, mean nothing")


def download_backbone_state():
    """torchvision's ImageNet GoogLeNet weights (from torch's cache of downloads, where torchvision keeps them too,
    else downloaded and checked), or a one-line UserError."""
    try:
        return torch.hub.load_state_dict_from_url(WEIGHTS_URL, progress=True, check_hash=True)
    except (urllib.error.URLError, OSError, RuntimeError, ValueError) as e:
        reason = getattr(e, "reason", None) or str(e).strip().splitlines()[0]
        raise UserError(f"{WEIGHTS_URL}: cannot download the GoogLeNet ImageNet weights ({reason}); "
                        f"download that file elsewhere and pass it with --backbone_weights PATH") from None


def load_backbone(weights_path: Path | None = None, device="cpu", random: bool = False) -> GoogLeNetPool5:
    """GoogLeNet (ImageNet weights, from `weights_path` or torchvision's download; or with `random`, random ones:
    random_backbone) returning pool5 features [N, 1024].

    Input: images [N, 3, 224, 224] in [0, 1], normalised as (x - 0.5) / 0.5. torchvision's ImageNet weights are
    meant to be used with its `transform_input`, which maps the standard ImageNet normalisation (mean/std) to exactly
    that: `embed` applies it directly.
    """
    if random:
        state, source = random_backbone(calibration_frames()).state_dict(), RANDOM_SOURCE
    elif weights_path is None:
        state, source = download_backbone_state(), WEIGHTS_URL
    else:
        state, source = read_backbone_state(weights_path), weights_path
    return GoogLeNetPool5(state, source).eval().to(device=device, memory_format=torch.channels_last)


def calibration_frames(n: int = CALIBRATION_FRAMES, seed: int = 0) -> np.ndarray:
    """Seeded pictures, uint8 [n, 224, 224, 3], for random_backbone's batch-norm statistics when no video is at
    hand: smooth random colour fields of different grain, with noise."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n):
        coarse = torch.from_numpy(rng.random((3, *rng.integers(2, 16, size=2))) * 255)[None].float()
        field = nn.functional.interpolate(coarse, size=(224, 224), mode="bilinear")[0].permute(1, 2, 0).numpy()
        frames.append(np.clip(field + rng.normal(0, rng.uniform(0, 40), field.shape), 0, 255).astype(np.uint8))
    return np.stack(frames)


def random_backbone(frames: np.ndarray) -> nn.Module:
    """A GoogLeNet of random weights whose pool5 features still tell the pictures of `frames` apart (uint8
    [N, H, W, 3]): for tests, benchmarks and --random_backbone (on calibration_frames), with no download. Its
    features carry no meaning: they only let the pipeline run.

    torchvision's own initialisation gives near-constant features in eval mode, so the convolutions get Kaiming-normal
    weights, the batch-norm statistics are measured on `frames`, and the last block is made sparse. Seeded: the same
    frames give the same weights.
    """
    import torchvision  # only here: the commands themselves do not load torchvision (googlenet.py)

    with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's generator
        torch.manual_seed(0)
        backbone = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False,
                                                transform_input=True)
        for module in backbone.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = None  # running statistics = the calibration batch's
    images = torch.from_numpy(np.asarray(frames)).permute(0, 3, 1, 2).float()
    backbone.train()
    with torch.no_grad():
        backbone(nn.functional.interpolate(images, size=(224, 224), mode="bilinear") / 127.5 - 1)
    for name, module in backbone.named_modules():
        if isinstance(module, nn.BatchNorm2d) and name.startswith("inception5b"):
            module.bias.data.fill_(-3.0)
    return backbone


@torch.inference_mode()
def embed(backbone, images, device):
    """pool5 features [N, 1024] of uint8 RGB images [N, H, W, 3] (channels-last all the way)."""
    x = torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float()
    return backbone(x.div_(127.5).sub_(1.0)).cpu()

