"""GoogLeNet (Szegedy et al., "Going deeper with convolutions", CVPR 2015) up to pool5, for inference.

The layers, their names and their weights are torchvision's (torchvision.models.GoogLeNet, whose ImageNet
state_dict this reads; its inception branch 3 has a 3x3 convolution where the paper has a 5x5, and so does this).
Every convolution carries its batch normalisation (eval mode) folded into its weights and bias, followed by the ReLU
in place: the same function as torchvision's network, one memory pass fewer a layer.

The network is written out here rather than imported: importing torchvision costs about 1.3 s and 160 MB (it loads
torch._dynamo), more than the rest of a short video's summary. tests/test_video.py checks the features against
torchvision's own network.
"""
import torch
import torch.nn as nn

from common.errors import UserError

BN_EPS = 1e-3  # torchvision's BasicConv2d
FEATURE_SIZE = 1024

# The paper's Table 1, one row per inception module: input channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5
# (a 3x3 in torchvision), pool proj.
INCEPTIONS = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


def conv_shapes() -> dict[str, tuple[int, int, int]]:
    """{torchvision BasicConv2d name: (in channels, out channels, kernel size)} of every convolution up to pool5."""
    shapes = {"conv1": (3, 64, 7), "conv2": (64, 64, 1), "conv3": (64, 192, 3)}
    for name, (c_in, c1, c2r, c2, c3r, c3, c4) in INCEPTIONS.items():
        shapes.update({f"{name}.branch1": (c_in, c1, 1), f"{name}.branch2.0": (c_in, c2r, 1),
                       f"{name}.branch2.1": (c2r, c2, 3), f"{name}.branch3.0": (c_in, c3r, 1),
                       f"{name}.branch3.1": (c3r, c3, 3), f"{name}.branch4.1": (c_in, c4, 1)})
    return shapes


def check_state(state: dict, source: object) -> None:
    """A one-line UserError naming `source` unless `state` holds every tensor of torchvision's GoogLeNet up to
    pool5, with its shape."""
    for name, (c_in, c_out, k) in conv_shapes().items():
        expected = {f"{name}.conv.weight": (c_out, c_in, k, k), **{f"{name}.bn.{p}": (c_out,) for p in
                                                                    ("weight", "bias", "running_mean", "running_var")}}
        for key, shape in expected.items():
            if key not in state:
                raise UserError(f"{source}: not a torchvision GoogLeNet state_dict (no {key})")
            if tuple(state[key].shape) != shape:
                raise UserError(f"{source}: not a torchvision GoogLeNet state_dict ({key} has shape "
                                f"{list(state[key].shape)}, expected {list(shape)})")


class ConvReLU(nn.Module):
    """A torchvision BasicConv2d (convolution without bias, batch normalisation, ReLU) from `state`'s tensors under
    `name`, the normalisation folded into the convolution's weights and bias."""

    def __init__(self, state: dict, name: str, stride: int = 1):
        super().__init__()
        weight = state[f"{name}.conv.weight"].float()
        gamma, beta, mean, var = (state[f"{name}.bn.{p}"].float() for p in ("weight", "bias", "running_mean",
                                                                           "running_var"))
        scale = gamma / torch.sqrt(var + BN_EPS)
        c_out, c_in, k, _ = weight.shape
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding=k // 2, bias=True)
        with torch.no_grad():
            self.conv.weight.copy_(weight * scale[:, None, None, None])
            self.conv.bias.copy_(beta - mean * scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu_(self.conv(x))


class Inception(nn.Module):
    """Four branches concatenated: 1x1; 1x1 then 3x3; 1x1 then 3x3; 3x3 max pooling then 1x1."""

    def __init__(self, state: dict, name: str):
        super().__init__()
        self.branch1 = ConvReLU(state, f"{name}.branch1")
        self.branch2 = nn.Sequential(ConvReLU(state, f"{name}.branch2.0"), ConvReLU(state, f"{name}.branch2.1"))
        self.branch3 = nn.Sequential(ConvReLU(state, f"{name}.branch3.0"), ConvReLU(state, f"{name}.branch3.1"))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     ConvReLU(state, f"{name}.branch4.1"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class GoogLeNetPool5(nn.Module):
    """Images [N, 3, 224, 224], normalised as (x - 0.5) / 0.5, to pool5 features [N, 1024]."""

    def __init__(self, state: dict, source: object = "GoogLeNet weights"):
        super().__init__()
        check_state(state, source)
        self.stem = nn.Sequential(
            ConvReLU(state, "conv1", stride=2), nn.MaxPool2d(3, stride=2, ceil_mode=True),
            ConvReLU(state, "conv2"), ConvReLU(state, "conv3"), nn.MaxPool2d(3, stride=2, ceil_mode=True))
        blocks = {name: Inception(state, name) for name in INCEPTIONS}
        self.inception3 = nn.Sequential(blocks["inception3a"], blocks["inception3b"],
                                        nn.MaxPool2d(3, stride=2, ceil_mode=True))
        self.inception4 = nn.Sequential(*(blocks[f"inception4{k}"] for k in "abcde"),
                                        nn.MaxPool2d(2, stride=2, ceil_mode=True))
        self.inception5 = nn.Sequential(blocks["inception5a"], blocks["inception5b"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inception5(self.inception4(self.inception3(self.stem(x))))
        return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
