"""CA_SUM: concentrated attention followed by a two-layer regressor that outputs frame importance in [0, 1]
(docs/method.md, "The network"; the paper's Section 3 and Fig. 2)."""
import torch
import torch.nn as nn

from model.layers.attention import SelfAttention


class CA_SUM(nn.Module):
    """Frame importance scores of a video from its frame features.

    Args:
        input_size: the feature width D (1024 for GoogLeNet pool5).
        output_size: the width H of the attention's keys, queries and values (D in every experiment).
        block_size: the size B of the diagonal blocks of the attention matrix that are kept (60).
    """

    def __init__(self, input_size: int = 1024, output_size: int = 1024, block_size: int = 60):
        super().__init__()
        self.attention = SelfAttention(input_size=input_size, output_size=output_size, block_size=block_size)
        self.linear_1 = nn.Linear(input_size, input_size)
        self.linear_2 = nn.Linear(input_size, 1)
        self.drop = nn.Dropout(p=0.5)
        self.norm_y = nn.LayerNorm(input_size, eps=1e-6)
        self.norm_linear = nn.LayerNorm(input_size, eps=1e-6)

    def regress(self, x: torch.Tensor, attended: torch.Tensor) -> torch.Tensor:
        """Residual, dropout, normalisation and the regressor: per-frame scores [T] from x and its attended features."""
        y = self.norm_y(self.drop(x + attended))
        y = self.norm_linear(self.drop(torch.relu(self.linear_1(y))))
        return torch.sigmoid(self.linear_2(y)).view(-1)

    def forward(self, x: torch.Tensor, div_out: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores of the frames of one video.

        Args:
            x: frame features [T, input_size].
            div_out: optionally, self.attention.outside_dissimilarity(x), kept by a caller that scores the same video
                every epoch (it depends on x only).
        Returns:
            (scores [1, T] in [0, 1], the block-diagonal attention matrix [T, T]).
        """
        attended, weights = self.attention(x, div_out)
        return self.regress(x, attended).view(1, -1), weights

    @torch.no_grad()
    def score_frames(self, x: torch.Tensor, chunk: int = 256, dense_limit: int = 2048) -> torch.Tensor:
        """Scores [T] equal to forward's in eval mode, in O(T * (block_size + chunk)) memory instead of O(T^2).

        For long videos: the attention rows are walked `chunk` rows at a time (rounded to whole blocks). Up to
        `dense_limit` frames the dense forward pass is no larger than that and runs as it is, so the scores of the
        benchmark videos are bit-identical to the reference's (a knapsack can flip on a last-bit difference).
        Puts the model in eval mode.
        """
        self.eval()
        if x.shape[0] <= dense_limit:
            return self(x)[0][0]
        attention = self.attention
        rows = attention.block_size * max(1, chunk // attention.block_size)
        K, Q, V = attention.Wk(x), attention.Wq(x), attention.Wv(x)
        uniqueness, d, log_norm = attention.row_statistics(x, Q, K, rows)
        scores = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
        for start in range(0, x.shape[0], rows):
            end = min(start + rows, x.shape[0])
            attended = attention.attend_rows(Q[start:end], K[start:end], V[start:end], log_norm[start:end],
                                             d[start:end], uniqueness[start:end])
            scores[start:end] = self.regress(x[start:end], attended)
        return scores
