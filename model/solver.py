"""Training and per-epoch evaluation of CA-SUM (SPEC section 3), with checkpoints, atomic score files and resume.

At the end of every epoch the whole state of the run (model, optimizer, model-selection bookkeeping and every random
generator) is captured and written atomically to models/split{k}/resume.pt (by a background thread, while the next
epoch trains), so a run killed at any point continues with `--resume` from its last complete resume.pt exactly as if
it had never stopped. The file is removed when the run finishes.
"""
import functools
import io
import math
import os
import random
import shutil
import threading
import warnings
from contextlib import contextmanager

import h5py
import numpy as np
import torch
import torch.nn as nn
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm, trange

from model import fileio
from model.errors import UserError
from model.layers.summarizer import CA_SUM

DISSIMILARITY_CACHE_BYTES = 2 ** 28  # per set (train, test); the paper splits need at most 50 MB
START_EPOCH, LAST_EPOCH = 20, 400  # model selection: argmin of the loss over epochs 20..399 (SPEC section 5)


def seed_everything(seed):
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    np.random.seed(seed)
    random.seed(seed)


def make_deterministic(device):
    """Ask CUDA for deterministic kernels, so two runs on the same GPU give the same numbers."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True)


def init_weights(net, init_type="xavier", init_gain=1.4142):
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


RESUME_KEYS = ("epoch", "args", "model", "optimizer", "best_loss", "best_epoch", "rng")  # the entries of resume.pt

# The arguments that determine a run's numbers: resuming with other values would mix two different runs.
RUN_ARGS = ("video_type", "input_size", "block_size", "init_type", "init_gain", "n_epochs", "batch_size", "seed",
            "clip", "lr", "l2_req", "reg_factor", "split_index")


def rng_state():
    """Every random generator's state, as tensors and plain values (loadable with weights_only=True)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss), "random": random.getstate()}


def set_rng_state(state):
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(state["random"])


def run_state(config):
    """What a run's folders hold: 'finished', 'finished-other' (a run of another length), 'interrupted' or 'new'."""
    if (config.save_dir / f"last_epoch{config.n_epochs - 1}.pt").is_file():
        return "finished"
    if any(config.save_dir.glob("last_epoch*.pt")):
        return "finished-other"
    folders = (config.log_dir, config.score_dir, config.save_dir)
    return "interrupted" if any(f.is_dir() and any(f.iterdir()) for f in folders) else "new"


def clear_run(config):
    """Remove every output of the run (its logs, results and models folders)."""
    for folder in (config.log_dir, config.score_dir, config.save_dir):
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def loss_log(log_dir, purge_step):
    """log(loss, epoch): the loss_epoch scalar into TensorBoard events in `log_dir`, flushed at once.

    A write error (disk full, read-only folder) is a UserError naming the folder; the writer's thread, which raises
    it first, is kept from printing its own traceback.
    """
    def failed(e):
        return UserError(f"{log_dir}: cannot write the TensorBoard log: {fileio.reason(e)}")

    hook = threading.excepthook
    threading.excepthook = lambda args: None if issubclass(args.exc_type, OSError) else hook(args)
    try:
        try:
            writer = SummaryWriter(str(log_dir), purge_step=purge_step)
        except OSError as e:
            raise failed(e) from None

        def log(loss, epoch):
            try:
                writer.add_scalar("loss_epoch", loss, epoch)
                writer.flush()
            except OSError as e:
                raise failed(e) from None

        try:
            yield log
        finally:
            try:
                writer.close()
            except OSError as e:
                raise failed(e) from None
    finally:
        threading.excepthook = hook


def selection_window(n_epochs):
    """Epochs among which model selection takes the lowest loss: 20..399, or all of them for a run of <= 20 epochs."""
    return range(START_EPOCH, min(n_epochs, LAST_EPOCH)) if n_epochs > START_EPOCH else range(n_epochs)


class Solver:
    """Builds, trains and evaluates CA-SUM for one split and one sigma."""

    def __init__(self, config, train_data, test_data):
        self.config = config
        self.train_data = train_data
        self.test_data = test_data
        self.device = config.device
        make_deterministic(self.device)
        if config.seed is not None:
            seed_everything(config.seed)
        self.model = CA_SUM(config.input_size, config.input_size, config.block_size).to(self.device)
        if config.init_type is not None:
            init_weights(self.model, config.init_type, config.init_gain)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, weight_decay=config.l2_req)
        self.train_inputs, self.test_inputs = self.model_inputs(train_data), self.model_inputs(test_data)
        self.best_loss, self.best_epoch = None, None
        self.start_epoch = 0

    def model_inputs(self, data):
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

    @property
    def resume_path(self):
        return self.config.save_dir / "resume.pt"

    def resume_task(self, epoch):
        """A task writing resume.pt after `epoch`: the state is serialized now, the file written when it runs."""
        state = {"epoch": epoch, "args": {k: getattr(self.config, k) for k in RUN_ARGS},
                 "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "best_loss": self.best_loss, "best_epoch": self.best_epoch, "rng": rng_state()}
        return functools.partial(fileio.write_bytes, self.resume_path, fileio.torch_bytes(state))

    def save_resume(self, epoch):
        self.resume_task(epoch)()

    def load_resume(self):
        """Continue after the last finished epoch of resume.pt; False when there is none (start from scratch)."""
        if not self.resume_path.is_file():
            return False
        try:
            with warnings.catch_warnings():  # torch warns about odd pickles before failing on them
                warnings.simplefilter("ignore")
                state = torch.load(self.resume_path, map_location=self.device, weights_only=True)
        except Exception as e:  # any unreadable file: torch raises many types here
            raise UserError(f"{self.resume_path}: unreadable resume file ({type(e).__name__}); "
                            f"start over with --overwrite") from None
        broken = f"{self.resume_path}: not a resume file of this run ({{}}); start over with --overwrite"
        if not isinstance(state, dict) or not set(RESUME_KEYS) <= set(state) or not isinstance(state["args"], dict):
            raise UserError(broken.format(f"expected the entries {', '.join(RESUME_KEYS)}"))
        epoch, best_loss, best_epoch = state["epoch"], state["best_loss"], state["best_epoch"]
        if not isinstance(epoch, int) or not 0 <= epoch < self.config.n_epochs:
            raise UserError(broken.format(f"epoch {epoch!r} is not one of 0..{self.config.n_epochs - 1}"))
        if not (best_loss is None and best_epoch is None or isinstance(best_loss, float) and math.isfinite(best_loss)
                and isinstance(best_epoch, int)):
            raise UserError(broken.format(f"best loss {best_loss!r} at epoch {best_epoch!r}"))
        args = {k: getattr(self.config, k) for k in RUN_ARGS}
        changed = [f"--{k} {state['args'].get(k)} (now {v})" for k, v in args.items() if state["args"].get(k) != v]
        if changed:
            raise UserError(f"{self.resume_path}: the run was started with other arguments: {', '.join(changed)}; "
                            f"resume with the same ones, or start over with --overwrite")
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            set_rng_state(state["rng"])
        except (AttributeError, IndexError, KeyError, RuntimeError, TypeError, ValueError) as e:
            raise UserError(broken.format(" ".join(str(e).split()) or type(e).__name__))
        if not all(torch.isfinite(p).all() for p in self.model.parameters()):
            raise UserError(broken.format("NaN or infinite weights"))
        for param, moments in self.optimizer.state.items():
            if any(torch.is_tensor(m) and (m.ndim and m.shape != param.shape or not torch.isfinite(m).all())
                   for m in moments.values()):
                raise UserError(broken.format("optimizer state of other shapes than the model's, or not finite"))
        self.best_loss, self.best_epoch = best_loss, best_epoch
        self.start_epoch = epoch + 1
        return True

    def loss(self, scores):
        """Length regularisation |mean(scores) - sigma|."""
        return torch.abs(torch.mean(scores) - self.config.reg_factor)

    def train_epoch(self):
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

    def run(self, resume=False):
        """Evaluate the untrained model, then train; with `resume`, continue from resume.pt when there is one."""
        for folder in (self.config.log_dir, self.config.score_dir, self.config.save_dir):
            fileio.remove_stale_temporaries(folder)
        if resume and self.load_resume():
            tqdm.write(f"{self.config.run_label}: resuming after epoch {self.start_epoch - 1}")
        else:
            clear_run(self.config)
            self.evaluate(-1)
        self.train()

    def train(self):
        cfg = self.config
        window = selection_window(cfg.n_epochs)
        # purge_step: TensorBoard readers drop what an interrupted attempt logged from this epoch on.
        # Checkpoints and resume.pt reach the disk while the next epoch trains (a slow disk, e.g. NFS, costs no time).
        with loss_log(cfg.log_dir, purge_step=self.start_epoch or None) as log, fileio.BackgroundWriter() as writer:
            for epoch in trange(self.start_epoch, cfg.n_epochs, initial=self.start_epoch, total=cfg.n_epochs,
                                desc="Epoch", ncols=80, disable=None):
                loss = self.train_epoch()
                if not math.isfinite(loss):
                    raise UserError(f"{cfg.dataset_file}: the training loss became NaN or infinite at epoch {epoch}; "
                                    f"are the features of a sane magnitude?")
                if cfg.verbose:
                    tqdm.write(f"[{epoch}] loss: {loss}")
                log(loss, epoch)
                self.evaluate(epoch)
                tasks = []
                if epoch in window and (self.best_loss is None or np.float32(loss) < np.float32(self.best_loss)):
                    tasks.append(self.checkpoint_task("selected", epoch))
                    self.best_loss, self.best_epoch = loss, epoch
                tasks.append(self.resume_task(epoch))
                writer.submit(tasks)
        self.checkpoint_task("last", cfg.n_epochs - 1)()
        self.resume_path.unlink()

    def checkpoint_task(self, kind, epoch):
        """A task writing models/split{k}/{kind}_epoch{e}.pt (state_dict, CPU tensors) and then removing the previous
        file of that kind; the weights are serialized now, the file written when it runs."""
        save_dir = self.config.save_dir
        path = save_dir / f"{kind}_epoch{epoch}.pt"
        data = fileio.torch_bytes({k: v.detach().cpu() for k, v in self.model.state_dict().items()})

        def write():
            fileio.write_bytes(path, data)
            for old in save_dir.glob(f"{kind}_epoch*.pt"):
                if old != path:
                    old.unlink()
        return write

    @torch.no_grad()
    def evaluate(self, epoch):
        """Score every test video with the model in eval mode; write results/split{k}/{VideoType}_{epoch}.json."""
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
            # Built in memory, then written atomically: HDF5 writing to a full disk crashes instead of raising.
            path = cfg.score_dir / "weights.h5"
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
