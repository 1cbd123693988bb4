"""GoogLeNet pool5 features (1024-d, ImageNet weights) of the sampled frames, as the benchmark datasets hold them.

The backbone is torchvision's ImageNet GoogLeNet up to its global average pooling (googlenet.py: the network, with
every convolution fused with its batch normalisation for speed on CPUs). It runs in channels-last layout, under
inference_mode, in batches of a few frames (analysis.py feeds them while the next ones decode).
"""
import urllib.error

import numpy as np
import torch
import torch.nn as nn

from common.errors import UserError
from inference.video.googlenet import GoogLeNetPool5
from model.checkpoints import torch_load

# torchvision's GoogLeNet_Weights.IMAGENET1K_V1: the file name carries the start of its SHA-256, which the download
# checks.
WEIGHTS_URL = "https://download.pytorch.org/models/googlenet-1378be20.pth"


def read_backbone_state(path):
    """The state_dict of a local copy of torchvision's GoogLeNet weights (e.g. googlenet-1378be20.pth)."""
    state = torch_load(path, "backbone weights file")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{path}: not a GoogLeNet state_dict (expected a dict of tensors)")
    return state


def download_backbone_state():
    """torchvision's ImageNet GoogLeNet weights (from torch's cache of downloads, where torchvision keeps them too,
    else downloaded and checked), or a one-line UserError."""
    try:
        return torch.hub.load_state_dict_from_url(WEIGHTS_URL, progress=True, check_hash=True)
    except (urllib.error.URLError, OSError, RuntimeError, ValueError) as e:
        reason = getattr(e, "reason", None) or str(e).strip().splitlines()[0]
        raise UserError(f"{WEIGHTS_URL}: cannot download the GoogLeNet ImageNet weights ({reason}); "
                        f"download that file elsewhere and pass it with --backbone_weights PATH") from None


def load_backbone(weights_path=None, device="cpu"):
    """GoogLeNet (ImageNet weights, from `weights_path` or torchvision's download) returning pool5 features
    [N, 1024].

    Input: images [N, 3, 224, 224] in [0, 1], normalised as (x - 0.5) / 0.5. torchvision's ImageNet weights are
    meant to be used with its `transform_input`, which maps the standard ImageNet normalisation (mean/std) to exactly
    that: `embed` applies it directly.
    """
    if weights_path is None:
        state, source = download_backbone_state(), WEIGHTS_URL
    else:
        state, source = read_backbone_state(weights_path), weights_path
    return GoogLeNetPool5(state, source).eval().to(device=device, memory_format=torch.channels_last)


def random_backbone(frames):
    """A GoogLeNet of random weights whose pool5 features still tell the pictures of `frames` apart (uint8
    [N, H, W, 3]): for tests and benchmarks, with no download.

    torchvision's own initialisation gives near-constant features in eval mode, so the convolutions get Kaiming-normal
    weights, the batch-norm statistics are measured on `frames`, and the last block is made sparse. Seeded: the same
    frames give the same weights.
    """
    import torchvision  # for tests and benchmarks only: the command itself does not load torchvision (googlenet.py)

    torch.manual_seed(0)
    backbone = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False, transform_input=True)
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

