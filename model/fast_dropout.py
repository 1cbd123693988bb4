"""Faster dropout for training on the CPU, with torch's own masks: numpy's Mersenne Twister continues torch's CPU
generator. Not part of the method: the network (model/layers/) uses a plain nn.Dropout, and training swaps in
FastDropout with `use_fast_dropout(model)`; the numbers are the same either way, bit for bit.

On the CPU, torch's dropout draws its mask with bernoulli_, a serial loop over the default generator (an MT19937)
that costs a tenth of a CA-SUM training epoch. The mask is a function of the generator's stream: element k keeps its
value when u_k < 1 - p, where u_k is made of the 53 low bits of two consecutive 32-bit draws (first draw high). numpy
implements the same generator in a faster loop, so this module copies torch's generator state into numpy, draws the
mask there and writes the advanced state back: the masks, the outputs and every later random number are those of
torch's dropout, bit for bit, and training keeps the reference's random stream.

That relies on how this torch build draws bernoulli numbers (some builds use MKL on Intel CPUs instead) and on the
layout of its generator state, so `numpy_matches_torch()` checks both once, against torch itself; where it does not
hold, and on the GPU, FastDropout is torch's dropout.
"""
import functools
import math
import threading

import numpy as np
import torch
import torch.nn as nn

N = 624  # MT19937 state words
# Byte offsets in torch.get_rng_state() (CPUGeneratorImplState): left (int32), next (uint64), state (uint64[624]).
LEFT, NEXT, KEY = 8, 16, 24
STATE_BYTES = 5056
_local = threading.local()  # one numpy generator per thread, reused: a new one seeds itself first (65 us)


def to_numpy(state):
    """numpy MT19937 at the position of a torch CPU generator state (a uint8 tensor)."""
    raw = state.numpy().tobytes()
    left = int(np.frombuffer(raw, np.int32, 1, LEFT)[0])
    position = N if left == 1 else int(np.frombuffer(raw, np.uint64, 1, NEXT)[0])  # left == 1: twist on next draw
    if not hasattr(_local, "generator"):
        _local.generator = np.random.MT19937(0)
    generator = _local.generator
    generator.state = {"bit_generator": "MT19937",
                       "state": {"key": np.frombuffer(raw, np.uint64, N, KEY).astype(np.uint32), "pos": position}}
    return generator


def to_torch(state, generator):
    """`state` (a torch CPU generator state) with its MT19937 words and position taken from numpy's `generator`."""
    raw = bytearray(state.numpy().tobytes())
    mt = generator.state["state"]
    np.frombuffer(raw, np.int32, 1, LEFT)[0] = N + 1 - mt["pos"]
    np.frombuffer(raw, np.uint64, 1, NEXT)[0] = mt["pos"]
    np.frombuffer(raw, np.uint64, N, KEY)[:] = mt["key"]
    return torch.frombuffer(raw, dtype=torch.uint8)


def keep_mask(generator, n, keep):
    """Boolean mask of n elements, True with probability `keep`, as torch's bernoulli_(keep) draws it."""
    draws = generator.random_raw(2 * n)
    threshold = math.ceil(keep * 2.0 ** 53)  # u < keep  <=>  its 53-bit integer < threshold
    high, low = threshold >> 32, threshold & 0xFFFFFFFF
    first = draws[0::2] & 0x1FFFFF  # the 21 high bits of the 53
    if low == 0:
        return first < high
    return (first < high) | ((first == high) & (draws[1::2] < low))


def bernoulli(shape, keep, state):
    """(mask as float32 of `shape`, new generator state): what torch.empty(shape).bernoulli_(keep) gives."""
    if math.prod(shape) == 0:
        return torch.empty(shape), state
    generator = to_numpy(state)
    mask = keep_mask(generator, math.prod(shape), keep)
    return torch.from_numpy(mask).reshape(shape).to(torch.float32), to_torch(state, generator)


@functools.cache
def numpy_matches_torch():
    """True when this build's bernoulli_ and generator state are the ones `bernoulli` reproduces."""
    generator = torch.Generator().manual_seed(20220627)
    torch.empty(37).uniform_(generator=generator)  # start mid-way through the state words
    for keep, n in ((0.5, 1000), (0.7, 999), (0.5, 700)):  # 700: runs across a twist
        state = generator.get_state()
        if state.numel() != STATE_BYTES:
            return False
        mask, after = bernoulli((n,), keep, state)
        expected = torch.empty(n).bernoulli_(keep, generator=generator)
        if not (torch.equal(mask, expected) and torch.equal(after, generator.get_state())):
            return False
    return True


class FastDropout(nn.Dropout):
    """nn.Dropout whose CPU masks are drawn through numpy (see the module docstring); the same numbers, faster."""

    def forward(self, x):
        fast = (self.training and 0 < self.p < 1 and x.device.type == "cpu" and x.dtype == torch.float32
                and x.is_contiguous() and not self.inplace and numpy_matches_torch())  # masks fill memory order
        if not fast:
            return super().forward(x)
        noise, state = bernoulli(x.shape, 1 - self.p, torch.get_rng_state())
        torch.set_rng_state(state)
        return x * noise.div_(1 - self.p)


def use_fast_dropout(model: nn.Module) -> nn.Module:
    """Replace every nn.Dropout module of `model` by a FastDropout of the same p, in place; returns the model."""
    for name, child in model.named_children():
        if type(child) is nn.Dropout:
            setattr(model, name, FastDropout(child.p, child.inplace))
        else:
            use_fast_dropout(child)
    return model
