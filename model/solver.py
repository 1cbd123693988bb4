"""Training and per-epoch evaluation of CA-SUM (SPEC section 3), with checkpoints and atomic score files."""
import os
import random

import h5py
import numpy as np
import torch
import torch.nn as nn
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm, trange

from model import fileio
from model.layers.summarizer import CA_SUM

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
        self.best_loss, self.best_epoch = None, None

    def loss(self, scores):
        """Length regularisation |mean(scores) - sigma|."""
        return torch.abs(torch.mean(scores) - self.config.reg_factor)

    def train_epoch(self):
        """One epoch: int(n / batch_size) batches of summed per-video gradients, clipped, one Adam step each."""
        cfg = self.config
        self.model.train()
        losses = []
        videos = self.train_data.shuffled()
        for _ in range(len(self.train_data) // cfg.batch_size):
            self.optimizer.zero_grad()
            for _ in range(cfg.batch_size):
                scores, _ = self.model(next(videos).to(self.device))
                loss = self.loss(scores)
                losses.append(loss.detach())
                loss.backward()
            nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip)
            self.optimizer.step()
        return torch.stack(losses).mean().item()

    def train(self):
        cfg = self.config
        window = selection_window(cfg.n_epochs)
        with SummaryWriter(str(cfg.log_dir)) as writer:
            for epoch in trange(cfg.n_epochs, desc="Epoch", ncols=80, disable=None):
                loss = self.train_epoch()
                if cfg.verbose:
                    tqdm.write(f"[{epoch}] loss: {loss}")
                writer.add_scalar("loss_epoch", loss, epoch)
                writer.flush()
                self.evaluate(epoch)
                if epoch in window and (self.best_loss is None or np.float32(loss) < np.float32(self.best_loss)):
                    self.save_checkpoint("selected", epoch)
                    self.best_loss, self.best_epoch = loss, epoch
            self.save_checkpoint("last", cfg.n_epochs - 1)

    def save_checkpoint(self, kind, epoch):
        """models/split{k}/{kind}_epoch{e}.pt (state_dict, CPU tensors); the previous file of that kind is removed."""
        save_dir = self.config.save_dir
        path = save_dir / f"{kind}_epoch{epoch}.pt"
        state = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        with fileio.atomic_path(path) as tmp:
            torch.save(state, tmp)
        for old in save_dir.glob(f"{kind}_epoch*.pt"):
            if old != path:
                old.unlink()

    @torch.no_grad()
    def evaluate(self, epoch):
        """Score every test video with the model in eval mode; write results/split{k}/{VideoType}_{epoch}.json."""
        cfg = self.config
        self.model.eval()
        out = {}
        weights = {}
        for key, features in zip(self.test_data.keys, self.test_data.features):
            scores, attention = self.model(features.to(self.device))
            out[key] = scores.squeeze(0).cpu().numpy().tolist()
            if cfg.save_weights and epoch in (-1, cfg.n_epochs - 1):
                weights[key] = attention.cpu().numpy()
        fileio.write_json(cfg.score_dir / f"{cfg.video_type}_{epoch}.json", out)
        if weights:
            with h5py.File(cfg.score_dir / "weights.h5", "a") as h5:
                for key, attention in weights.items():
                    name = f"{key}/epoch_{epoch}"
                    if name in h5:
                        del h5[name]
                    h5.create_dataset(name, data=attention)
