"""One training run of CA-SUM as the authors' code does it (docs/method.md, "Training"): the videos held in memory,
batches of summed per-video gradients, and the evaluation of the test videos after every epoch. The model, optimizer,
epoch loop, checkpoints and resume state are the Trainer's (model/trainer.py).
"""
import io

import h5py
import numpy as np
import torch

from common import fileio
from common.errors import UserError
from common.tblog import ScalarLog
from model.trainer import Trainer

DISSIMILARITY_CACHE_BYTES = 2 ** 28  # per set (train, test); the paper splits need at most 50 MB


class Solver:
    """Trains and evaluates CA-SUM for one split and one sigma, the videos held in memory, as the authors' code does
    (model/stream_solver.py streams them instead, and trains on several processes).

    `fast_dropout`: draw the dropout masks through numpy (model/fast_dropout.py), the same numbers as torch's.
    """

    main = True  # this process writes the run's outputs

    def __init__(self, config, train_data, test_data, fast_dropout: bool = True):
        self.config = config
        self.train_data = train_data
        self.test_data = test_data
        self.trainer = Trainer(config, fast_dropout)
        self.model, self.device = self.trainer.model, self.trainer.device
        self.train_inputs, self.test_inputs = self.model_inputs(train_data), self.model_inputs(test_data)

    def model_inputs(self, data) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """(features on the device, their outside dissimilarity or None) per video of `data`.

        The dissimilarity depends on the features only, so it is computed once instead of every epoch, as long as
        the [T, T] matrices of all videos fit in DISSIMILARITY_CACHE_BYTES; the model computes the rest itself.
        """
        inputs, cached = [], 0
        with torch.no_grad():
            for features in data.features:
                x = features.to(self.device)
                size = x.shape[0] ** 2 * x.element_size()
                keep = cached + size <= DISSIMILARITY_CACHE_BYTES
                cached += size if keep else 0
                inputs.append((x, self.model.attention.outside_dissimilarity(x) if keep else None))
        return inputs

    def train_epoch(self, epoch: int) -> torch.Tensor:
        """One epoch: int(n / batch_size) batches of summed per-video gradients, clipped, one Adam step each.
        Returns the mean loss over the videos, on the device (the caller waits for it once per epoch)."""
        cfg, trainer = self.config, self.trainer
        self.model.train()
        losses = []
        order = self.train_data.shuffled()
        for _ in range(len(self.train_data) // cfg.batch_size):
            trainer.optimizer.zero_grad()
            for _ in range(cfg.batch_size):
                scores, _ = self.model(*self.train_inputs[next(order)])
                loss = trainer.loss(scores)
                losses.append(loss.detach())
                loss.backward()
            trainer.step()
        return torch.stack(losses).mean()

    def run(self, resume: bool = False) -> None:
        """Evaluate the untrained model, then train; with `resume`, continue from resume.pt when there is one."""
        self.trainer.run(self, resume)

    def resume_extra(self) -> dict:
        """The source's own state to save with resume.pt (none: the shuffle draws from the saved generators)."""
        return {}

    def restore(self, extra: dict) -> None:
        """Take back the state saved with resume.pt (none here)."""

    @torch.no_grad()
    def evaluate(self, epoch: int, loss: float | None = None, log: ScalarLog | None = None) -> list:
        """Score every test video with the model in eval mode; write results/split{k}/{VideoType}_{epoch}.json.
        Returns the write tasks still to run (none here)."""
        cfg = self.config
        self.model.eval()
        scores, weights = [], {}
        for key, inputs in zip(self.test_data.keys, self.test_inputs):
            video_scores, attention = self.model(*inputs)
            scores.append(video_scores.reshape(-1))
            if cfg.save_weights and epoch in (-1, cfg.n_epochs - 1):
                weights[key] = attention.cpu().numpy()
        lengths = [len(s) for s in scores]
        host = np.split(torch.cat(scores).cpu().numpy(), np.cumsum(lengths)[:-1])  # one copy from the device
        out = {}
        for key, values in zip(self.test_data.keys, host):
            if not np.isfinite(values).all():
                raise UserError(f"{cfg.dataset_file}: {key}: the model's scores are NaN or infinite at epoch {epoch}; "
                                f"are the features of a sane magnitude?")
            out[key] = values.tolist()
        fileio.write_json(cfg.score_dir / f"{cfg.video_type}_{epoch}.json", out)
        if weights:
            self.save_attention(epoch, weights)
        return []

    def save_attention(self, epoch: int, weights: dict[str, np.ndarray]) -> None:
        """Add the attention matrices of `epoch` to results/split{k}/weights.h5 (--save_weights).

        Built in memory, then written atomically: HDF5 writing to a full disk crashes instead of raising."""
        path = self.config.score_dir / "weights.h5"
        buffer = io.BytesIO(path.read_bytes() if path.is_file() else b"")
        try:
            with h5py.File(buffer, "r+" if buffer.getbuffer().nbytes else "w") as h5:
                for key, attention in weights.items():
                    name = f"{key}/epoch_{epoch}"
                    if name in h5:
                        del h5[name]
                    h5.create_dataset(name, data=attention)
        except OSError as e:
            raise UserError(f"{path}: unreadable ({fileio.reason(e)}); start over with --overwrite") from None
        fileio.write_bytes(path, buffer.getvalue())
