"""Concentrated attention with frame uniqueness and diversity (docs/method.md, "The network"; the paper's Section 3.1).

The attention matrix is kept only on non-overlapping blocks of its main diagonal. Each frame's *uniqueness* is the
normalised entropy of its attention row; its *diversity* is the attention it pays to dissimilar frames outside its
block. Both are appended to the attended features, and the diversity is also added inside every block.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def block_mask(T: int, block_size: int, device: torch.device | None = None) -> torch.Tensor:
    """Boolean [T, T] mask, True where frames i and j fall in the same block of `block_size` frames."""
    block = torch.arange(T, device=device) // block_size
    return block[:, None] == block[None, :]


class SelfAttention(nn.Module):
    """Self-attention kept on the diagonal blocks of its matrix, with each frame's uniqueness and diversity.

    Args:
        input_size: the feature width D.
        output_size: the width H of keys, queries and values.
        block_size: the size B of the diagonal blocks kept.
    """

    def __init__(self, input_size: int = 1024, output_size: int = 1024, block_size: int = 60):
        super().__init__()
        self.input_size = input_size
        self.output_size = output_size
        self.block_size = block_size
        # Registration order fixes both the state_dict layout and the order of PyTorch's default initialisation.
        self.Wk = nn.Linear(input_size, output_size, bias=False)
        self.Wq = nn.Linear(input_size, output_size, bias=False)
        self.Wv = nn.Linear(input_size, output_size, bias=False)
        self.out = nn.Linear(output_size + 2, input_size, bias=False)

    @staticmethod
    def uniqueness(energies: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """Entropy of each softmax row divided by ln(T), then L1-normalised over frames ([T]).

        `attention` is softmax(energies), passed in so it is not computed twice. A single frame has nothing to be
        unique against: its uniqueness is 0 (the reference divides by ln 1 = 0).
        """
        T = energies.shape[0]
        if T == 1:
            return energies.new_zeros(1)
        entropy = -(attention * F.log_softmax(energies, dim=-1)).sum(-1)
        return F.normalize(entropy / math.log(T), p=1, dim=-1)

    def outside_dissimilarity(self, x: torch.Tensor) -> torch.Tensor:
        """Div * (1 - M) ([T, T]): each frame's dissimilarity to the frames outside its block, 0 inside it."""
        unit = F.normalize(x, p=2, dim=1)
        outside = ~block_mask(x.shape[0], self.block_size, x.device)
        return (1 - unit @ unit.t()) * outside.to(x.dtype)

    @staticmethod
    def diversity(div_out: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """Attention-weighted mean dissimilarity of each frame to the frames outside its block ([T]).

        `div_out` is outside_dissimilarity's matrix. A row with no weight outside its block (T <= block_size, or a
        static shot) gets 0 instead of 0 / 0.
        """
        denominator = div_out.sum(-1)
        numerator = (div_out * attention).sum(-1)
        empty = denominator == 0
        return torch.where(empty, torch.zeros_like(numerator), numerator / torch.where(empty, 1.0, denominator))

    def forward(self, x: torch.Tensor, div_out: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend over the frames of one video.

        Args:
            x: frame features [T, input_size].
            div_out: outside_dissimilarity(x), from a caller that keeps it across epochs (it depends on x only).
        Returns:
            (attended features [T, input_size], the block-diagonal attention matrix [T, T]).
        """
        K, Q, V = self.Wk(x), self.Wq(x), self.Wv(x)
        energies = Q @ K.t()
        attention = F.softmax(energies, dim=-1)
        d = self.diversity(self.outside_dissimilarity(x) if div_out is None else div_out, attention)
        with torch.no_grad():
            uniqueness = self.uniqueness(energies, attention)
        inside = block_mask(x.shape[0], self.block_size, x.device).to(x.dtype)
        weights = attention * inside + d.unsqueeze(0) * inside
        y = weights @ V
        y = self.out(torch.cat((y, uniqueness[:, None], d.detach()[:, None]), dim=-1))
        return y, weights

    def row_statistics(self, x, Q, K, rows):
        """First pass of the chunked path: per frame uniqueness, diversity and log-sum-exp of its energy row ([T] each).

        Every [rows, T] slab is computed and dropped in turn, so no [T, T] matrix is ever held.
        """
        T = x.shape[0]
        unit = F.normalize(x, p=2, dim=1)
        entropy, d, log_norm = (x.new_empty(T) for _ in range(3))
        for start in range(0, T, rows):
            end = min(start + rows, T)
            energies = Q[start:end] @ K.t()
            attention = F.softmax(energies, dim=-1)
            entropy[start:end] = -(attention * F.log_softmax(energies, dim=-1)).sum(-1)
            log_norm[start:end] = torch.logsumexp(energies, dim=-1)
            block = torch.arange(start, end, device=x.device)[:, None] // self.block_size
            outside = (block != torch.arange(T, device=x.device)[None, :] // self.block_size).to(x.dtype)
            d[start:end] = self.diversity((1 - unit[start:end] @ unit.t()) * outside, attention)
        uniqueness = F.normalize(entropy / math.log(T), p=1, dim=-1) if T > 1 else entropy.zero_()
        return uniqueness, d, log_norm

    def attend_rows(self, Q, K, V, log_norm, d, uniqueness):
        """Second pass: the block's output rows, for a slab of whole blocks (Q, K, V, ... cut to the same rows)."""
        inside = block_mask(Q.shape[0], self.block_size, Q.device).to(Q.dtype)
        weights = (torch.exp(Q @ K.t() - log_norm[:, None]) + d[None, :]) * inside
        y = weights @ V
        return self.out(torch.cat((y, uniqueness[:, None], d[:, None]), dim=-1))
