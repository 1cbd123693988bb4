"""One training run of CA-SUM (docs/method.md, "Training"): the unsupervised loss, the reference's loop, and the
evaluation of the test videos after every epoch.

Checkpoints and the resume state (model/checkpoints.py) are written by a background thread while the next epoch
trains; a run killed at any point continues with `--resume` from its last resume.pt, bit for bit as if it had never
stopped, training at most `--resume_every` epochs again.
"""
import contextlib
import io
import math
import os
import random
import shutil

import h5py
import numpy as np
import torch
import torch.nn as nn
from tqdm import tqdm, trange

from common import fileio
from common.errors import UserError
from common.tblog import ScalarLog
from evaluation.selection import selection_window
from model.checkpoints import BackgroundWriter, ResumeState, checkpoint_task
from model.fast_dropout import use_fast_dropout
from model.layers.summarizer import CA_SUM

DISSIMILARITY_CACHE_BYTES = 2 ** 28  # per set (train, test); the paper splits need at most 50 MB


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    np.random.seed(seed)
    random.seed(seed)


def make_deterministic(device: torch.device) -> None:
    """Ask CUDA for deterministic kernels, so two runs on the same GPU give the same numbers."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True)


def init_weights(net: nn.Module, init_type: str = "xavier", init_gain: float = 1.4142) -> None:
    """Re-initialise every non-LayerNorm weight with `init_type` and every bias with 0.1, in named_parameters order."""
    for name, param in net.named_parameters():
        if "weight" in name and "norm" not in name:
            if init_type == "normal":
                nn.init.normal_(param, mean=0.0, std=init_gain)
            elif init_type == "xavier":
                nn.init.xavier_uniform_(param, gain=np.sqrt(2.0))
            elif init_type == "kaiming":
                nn.init.kaiming_uniform_(param, mode="fan_in", nonlinearity="relu")
            elif init_type == "orthogonal":
                nn.init.orthogonal_(param, gain=np.sqrt(2.0))
            else:
                raise ValueError(f"unknown init_type {init_type!r}")
        elif "bias" in name:
            nn.init.constant_(param, 0.1)


def run_state(config) -> str:
    """What a run's folders hold: 'finished', 'finished-other' (a run of another length), 'interrupted' or 'new'."""
    if (config.save_dir / f"last_epoch{config.n_epochs - 1}.pt").is_file():
        return "finished"
    if any(config.save_dir.glob("last_epoch*.pt")):
        return "finished-other"
    folders = (config.log_dir, config.score_dir, config.save_dir)
    return "interrupted" if any(f.is_dir() and any(f.iterdir()) for f in folders) else "new"


def clear_run(config) -> None:
    """Remove every output of the run (its logs, results and models folders)."""
    for folder in (config.log_dir, config.score_dir, config.save_dir):
        shutil.rmtree(folder, ignore_errors=True)


class Solver:
    """Builds, trains and evaluates CA-SUM for one split and one sigma, the videos held in memory, as the authors'
    code does (model/stream_solver.py streams them instead, and trains on several processes).

    `fast_dropout`: draw the dropout masks through numpy (model/fast_dropout.py), the same numbers as torch's.
    """

    main = True  # this process writes the run's outputs (one of several under torchrun: model/stream_solver.py)

    def __init__(self, config, train_data, test_data, fast_dropout: bool = True):
        self.train_data = train_data
        self.test_data = test_data
        self.build(config, fast_dropout)
        self.train_inputs, self.test_inputs = self.model_inputs(train_data), self.model_inputs(test_data)

    def build(self, config, fast_dropout: bool) -> None:
        """Seed every generator, build and initialise the model, and its optimizer (docs/method.md,
        "Reproducibility")."""
        self.config = config
        self.device = config.device
        make_deterministic(self.device)
        if config.seed is not None:
            seed_everything(config.seed)
        self.model = CA_SUM(config.input_size, config.input_size, config.block_size).to(self.device)
        if config.init_type is not None:
            init_weights(self.model, config.init_type, config.init_gain)
        if fast_dropout:
            use_fast_dropout(self.model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, weight_decay=config.l2_req)
        self.resume_state = ResumeState(config, self.model, self.optimizer)
        self.best_loss, self.best_epoch = None, None
        self.start_epoch = 0

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

    def loss(self, scores: torch.Tensor) -> torch.Tensor:
        """Length regularisation |mean(scores) - sigma|."""
        return torch.abs(torch.mean(scores) - self.config.reg_factor)

    def train_epoch(self, epoch: int) -> float:
        """One epoch: int(n / batch_size) batches of summed per-video gradients, clipped, one Adam step each."""
        cfg = self.config
        self.model.train()
        losses = []
        order = self.train_data.shuffled()
        for _ in range(len(self.train_data) // cfg.batch_size):
            self.optimizer.zero_grad()
            for _ in range(cfg.batch_size):
                scores, _ = self.model(*self.train_inputs[next(order)])
                loss = self.loss(scores)
                losses.append(loss.detach())
                loss.backward()
            nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip)
            self.optimizer.step()
        return torch.stack(losses).mean().item()

    def run(self, resume: bool = False) -> None:
        """Evaluate the untrained model, then train; with `resume`, continue from resume.pt when there is one."""
        if self.main:
            for folder in (self.config.log_dir, self.config.score_dir, self.config.save_dir):
                fileio.remove_stale_temporaries(folder)
        restored = self.resume_state.load() if resume else None
        if restored is not None:
            epoch, self.best_loss, self.best_epoch, extra = restored
            self.start_epoch = epoch + 1
            self.restore(extra)
            if self.main:
                tqdm.write(f"{self.config.run_label}: resuming after epoch {epoch}")
        else:
            if self.main:
                clear_run(self.config)
            for task in self.evaluate(-1):
                task()
        self.train()

    def restore(self, extra: dict) -> None:
        """Take back the trainer's own state saved with resume.pt (none here)."""

    def resume_extra(self) -> dict:
        """The trainer's own state to save with resume.pt (none here)."""
        return {}

    def train(self) -> None:
        """The epochs: train, log the loss, evaluate; keep the checkpoint model selection will pick, and the resume
        state every --resume_every epochs. The files reach the disk while the next epoch trains."""
        cfg = self.config
        window = selection_window(cfg.n_epochs)
        # purge_step: TensorBoard readers drop what an interrupted attempt logged from this epoch on.
        log = ScalarLog(cfg.log_dir, purge_step=self.start_epoch or None) if self.main else contextlib.nullcontext()
        with log, BackgroundWriter() as writer:
            for epoch in trange(self.start_epoch, cfg.n_epochs, initial=self.start_epoch, total=cfg.n_epochs,
                                desc="Epoch", ncols=80, disable=None if self.main else True):
                loss = self.train_epoch(epoch)
                if not math.isfinite(loss):
                    raise UserError(f"{cfg.dataset_file}: the training loss became NaN or infinite at epoch {epoch}; "
                                    f"are the features of a sane magnitude?")
                if cfg.verbose and self.main:
                    tqdm.write(f"[{epoch}] loss: {loss}")
                if self.main:
                    log.add("loss_epoch", loss, epoch)
                tasks = self.evaluate(epoch, loss, log)
                if epoch in window and (self.best_loss is None or np.float32(loss) < np.float32(self.best_loss)):
                    tasks.append(checkpoint_task(cfg.save_dir, "selected", epoch, self.model))
                    self.best_loss, self.best_epoch = loss, epoch
                if (epoch + 1) % cfg.resume_every == 0 and epoch + 1 < cfg.n_epochs:
                    tasks.append(self.resume_state.save_task(epoch, self.best_loss, self.best_epoch,
                                                             self.resume_extra()))
                if self.main:
                    writer.submit(tasks)
        if self.main:
            checkpoint_task(cfg.save_dir, "last", cfg.n_epochs - 1, self.model)()
            self.resume_state.path.unlink(missing_ok=True)

    @torch.no_grad()
    def evaluate(self, epoch: int, loss: float | None = None, log: ScalarLog | None = None) -> list:
        """Score every test video with the model in eval mode; write results/split{k}/{VideoType}_{epoch}.json.
        Returns the write tasks still to run (none here)."""
        cfg = self.config
        self.model.eval()
        out = {}
        weights = {}
        for key, inputs in zip(self.test_data.keys, self.test_inputs):
            scores, attention = self.model(*inputs)
            if not torch.isfinite(scores).all():
                raise UserError(f"{cfg.dataset_file}: {key}: the model's scores are NaN or infinite at epoch {epoch}; "
                                f"are the features of a sane magnitude?")
            out[key] = scores.squeeze(0).cpu().numpy().tolist()
            if cfg.save_weights and epoch in (-1, cfg.n_epochs - 1):
                weights[key] = attention.cpu().numpy()
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
