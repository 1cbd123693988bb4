"""GoogLeNet pool5 features (1024-d, ImageNet weights) of the sampled frames, as the benchmark datasets hold them.

The backbone is torchvision's GoogLeNet up to its global average pooling. For speed on CPUs every convolution is
fused with its batch normalisation (the same function, one memory pass fewer), and the network runs in channels-last
layout, under inference_mode, in batches of a few frames (analysis.py feeds them while the next ones decode).
"""
import urllib.error

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models import GoogLeNet, GoogLeNet_Weights
from torchvision.models.googlenet import BasicConv2d

from common.errors import UserError
from model.checkpoints import torch_load

FEATURE_SIZE = 1024


class ConvReLU(nn.Module):
    """A torchvision BasicConv2d (convolution, batch normalisation in eval mode, ReLU) with the normalisation folded
    into the convolution's weights and bias."""

    def __init__(self, basic):
        super().__init__()
        conv, bn = basic.conv, basic.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        self.conv = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                              conv.dilation, conv.groups, bias=True)
        self.conv.weight.copy_(conv.weight * scale[:, None, None, None])
        self.conv.bias.copy_(bn.bias - bn.running_mean * scale)

    def forward(self, x):
        return torch.relu_(self.conv(x))


@torch.no_grad()
def fuse_batchnorm(module):
    """Replace every BasicConv2d under `module` by its fused ConvReLU, in place."""
    for name, child in module.named_children():
        if isinstance(child, BasicConv2d):
            setattr(module, name, ConvReLU(child))
        else:
            fuse_batchnorm(child)
    return module


def read_backbone_state(path):
    """The state_dict of a local copy of torchvision's GoogLeNet weights (e.g. googlenet-1378be20.pth)."""
    state = torch_load(path, "backbone weights file")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{path}: not a GoogLeNet state_dict (expected a dict of tensors)")
    return state


def download_backbone_state():
    """torchvision's ImageNet GoogLeNet weights (from its cache, else downloaded), or a one-line UserError."""
    weights = GoogLeNet_Weights.IMAGENET1K_V1
    try:
        return weights.get_state_dict(progress=True, check_hash=True)
    except (urllib.error.URLError, OSError, RuntimeError, ValueError) as e:
        reason = getattr(e, "reason", None) or str(e).strip().splitlines()[0]
        raise UserError(f"{weights.url}: cannot download the GoogLeNet ImageNet weights ({reason}); "
                        f"download that file elsewhere and pass it with --backbone_weights PATH") from None


def load_backbone(weights_path=None, device="cpu"):
    """GoogLeNet (ImageNet weights, from `weights_path` or torchvision) returning pool5 features [N, 1024].

    Input: images [N, 3, 224, 224] in [0, 1], normalised as (x - 0.5) / 0.5. torchvision's ImageNet weights are
    meant to be used with `transform_input`, which maps the standard ImageNet normalisation (mean/std) to exactly
    that: `embed` applies it directly.
    """
    state = download_backbone_state() if weights_path is None else read_backbone_state(weights_path)
    has_aux = any(k.startswith("aux1.") for k in state)
    model = GoogLeNet(num_classes=state["fc.weight"].shape[0] if "fc.weight" in state else 1000,
                      aux_logits=has_aux, transform_input=True, init_weights=False)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        source = weights_path if weights_path is not None else GoogLeNet_Weights.IMAGENET1K_V1.url
        lines = str(e).strip().splitlines()
        detail = (lines[1] if len(lines) > 1 else lines[0]).strip()
        detail = detail if len(detail) <= 160 else detail[:157] + "..."
        raise UserError(f"{source}: not a torchvision GoogLeNet state_dict ({detail})") from None
    model.aux1 = model.aux2 = None
    model.aux_logits = model.transform_input = False
    model.dropout = model.fc = nn.Identity()
    return fuse_batchnorm(model).eval().to(device=device, memory_format=torch.channels_last)


def random_backbone(frames):
    """A GoogLeNet of random weights whose pool5 features still tell the pictures of `frames` apart (uint8
    [N, H, W, 3]): for tests and benchmarks, with no download.

    torchvision's own initialisation gives near-constant features in eval mode, so the convolutions get Kaiming-normal
    weights, the batch-norm statistics are measured on `frames`, and the last block is made sparse. Seeded: the same
    frames give the same weights.
    """
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

