"""What every training run shares, however its videos are held (docs/method.md, "Training"): the seeded model and
optimizer, the unsupervised loss, and the epoch loop with its checkpoints, model selection and resume state.

The videos themselves are the business of the run's source, model/solver.py (in memory, as the authors' code) or
model/stream_solver.py (streamed from the file, on one process or several), which the Trainer calls back:

- `train_epoch(epoch)` trains one epoch and returns its mean loss as a tensor on the training device, so that the
  host waits for the device once per epoch, not once per video;
- `evaluate(epoch, loss, log)` scores the evaluated videos and returns the file writes still to do;
- `resume_extra()` and `restore(extra)` save and take back the source's own state with resume.pt;
- `main` says whether this process writes the run's files (one of several under torchrun).

Checkpoints and the resume state are written by a background thread while the next epoch trains; a run killed at
any point continues with `--resume` from its last resume.pt, bit for bit as if it had never stopped, training at
most `--resume_every` epochs again.
"""
import contextlib
import math
import random
import shutil
from typing import Protocol

import numpy as np
import torch
import torch.nn as nn
from tqdm import tqdm

from common import fileio
from common.errors import UserError
from common.tblog import ScalarLog
from evaluation.selection import selection_window
from model.checkpoints import BackgroundWriter, checkpoint_task
from model.fast_dropout import use_fast_dropout
from model.layers.summarizer import CA_SUM
from model.resume import ResumeState


class Source(Protocol):
    """The videos of a run, as the Trainer uses them (module docstring)."""
    main: bool

    def train_epoch(self, epoch: int) -> torch.Tensor: ...

    def evaluate(self, epoch: int, loss: float | None = None, log: ScalarLog | None = None) -> list: ...

    def resume_extra(self) -> dict: ...

    def restore(self, extra: dict) -> None: ...


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    np.random.seed(seed)
    random.seed(seed)


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


class Trainer:
    """The model, optimizer and loss of one run (one split, one sigma), and its epoch loop.

    Built in the order of the authors' code, so that the same seed gives the same numbers (docs/method.md,
    "Reproducibility"): every generator seeded, the model built on the device and initialised, then Adam.
    `fast_dropout`: draw the CPU dropout masks through numpy (model/fast_dropout.py), the same numbers as torch's.
    """

    def __init__(self, config, fast_dropout: bool = True):
        self.config = config
        self.device = config.device
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

    def loss(self, scores: torch.Tensor) -> torch.Tensor:
        """Length regularisation |mean(scores) - sigma|."""
        return torch.abs(torch.mean(scores) - self.config.reg_factor)

    def step(self) -> None:
        """Clip the gradient's L2 norm to --clip and take one Adam step."""
        nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
        self.optimizer.step()

    def run(self, source: Source, resume: bool = False) -> None:
        """Evaluate the untrained model, then train; with `resume`, continue from resume.pt when there is one."""
        if source.main:
            for folder in (self.config.log_dir, self.config.score_dir, self.config.save_dir):
                fileio.remove_stale_temporaries(folder)
        restored = self.resume_state.load() if resume else None
        if restored is not None:
            epoch, self.best_loss, self.best_epoch, extra = restored
            self.start_epoch = epoch + 1
            source.restore(extra)
            if source.main:
                tqdm.write(f"{self.config.run_label}: resuming after epoch {epoch}")
        else:
            if source.main:
                if resume and run_state(self.config) == "interrupted":  # stopped before its first resume.pt
                    tqdm.write(f"{self.config.run_label}: no epoch was saved for --resume yet (resume.pt, every "
                               f"--resume_every epochs): starting from epoch 0")
                clear_run(self.config)
            for task in source.evaluate(-1):
                task()
        self.train(source)

    def train(self, source: Source) -> None:
        """The epochs: train, log the loss, evaluate; keep the checkpoint model selection will pick, and the resume
        state every --resume_every epochs. The files reach the disk while the next epoch trains."""
        cfg, main = self.config, source.main
        window = selection_window(cfg.n_epochs)
        # purge_step: TensorBoard readers drop what an interrupted attempt logged from this epoch on.
        log = ScalarLog(cfg.log_dir, purge_step=self.start_epoch or None) if main else contextlib.nullcontext()
        with log, BackgroundWriter() as writer:
            # on a terminal only (disable=None): a log file gets the header line and the last line
            epochs = tqdm(range(self.start_epoch, cfg.n_epochs), initial=self.start_epoch, total=cfg.n_epochs,
                          desc="Epoch", unit="epoch", dynamic_ncols=True, disable=None if main else True)
            for epoch in epochs:
                loss = float(source.train_epoch(epoch))  # the one wait for the device in an epoch
                if not math.isfinite(loss):
                    raise UserError(f"{cfg.dataset_file}: the training loss became NaN or infinite at epoch {epoch}; "
                                    f"are the features of a sane magnitude?")
                epochs.set_postfix_str(f"loss {loss:.4f}", refresh=False)
                if cfg.verbose and main:
                    tqdm.write(f"[{epoch}] loss: {loss}")
                if main:
                    log.add("loss_epoch", loss, epoch)
                tasks = source.evaluate(epoch, loss, log)
                if epoch in window and (self.best_loss is None or np.float32(loss) < np.float32(self.best_loss)):
                    tasks.append(checkpoint_task(cfg.save_dir, "selected", epoch, self.model))
                    self.best_loss, self.best_epoch = loss, epoch
                if (epoch + 1) % cfg.resume_every == 0 and epoch + 1 < cfg.n_epochs:
                    tasks.append(self.resume_state.save_task(epoch, self.best_loss, self.best_epoch,
                                                             source.resume_extra()))
                if main:
                    writer.submit(tasks)
        if main:
            checkpoint_task(cfg.save_dir, "last", cfg.n_epochs - 1, self.model)()
            self.resume_state.path.unlink(missing_ok=True)
            print(f"{cfg.run_label}: trained {cfg.n_epochs} epochs; wrote the checkpoints to {cfg.save_dir}, the "
                  f"scores to {cfg.score_dir}, the TensorBoard log to {cfg.log_dir}", flush=True)
