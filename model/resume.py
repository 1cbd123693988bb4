"""models/split{k}/resume.pt: everything a killed run needs to continue exactly as if it had never stopped (model,
optimizer, the model selection's best loss so far, every random generator), after a given epoch (docs/training.md,
"Resuming").

The file is read onto the CPU whatever the training device: the weights and the optimizer's moments reach the
device through `load_state_dict`, and the generator states stay the CPU byte tensors that torch's setters take. Of
the CUDA generators only the training device's is kept, so a run requeued onto a node with another number of GPUs
resumes all the same.
"""
import functools
import math
import random
from collections.abc import Callable

import numpy as np
import torch

from common import fileio
from common.errors import UserError
from model.checkpoints import torch_bytes, torch_load

RESUME_KEYS = ("epoch", "args", "model", "optimizer", "best_loss", "best_epoch", "rng")  # the entries of resume.pt
# The arguments that determine a run's numbers: resuming with other values would mix two different runs.
RUN_ARGS = ("video_type", "input_size", "block_size", "init_type", "init_gain", "n_epochs", "batch_size", "seed",
            "clip", "lr", "l2_req", "reg_factor", "split_index")


def rng_state(device: torch.device) -> dict:
    """The state of every random generator a run on `device` draws from, as CPU tensors and plain values (loadable
    with weights_only=True): torch's CPU generator, the CUDA generator of `device` (None elsewhere), numpy's and
    Python's."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return {"torch": torch.get_rng_state(), "cuda": cuda, "random": random.getstate(),
            "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss)}


def set_rng_state(state: dict, device: torch.device) -> None:
    """Restore the generators saved by `rng_state`; a file saved on the CPU resumes on a GPU with its CUDA generator
    as seeded, and one saved on a GPU resumes on the CPU without it."""
    torch.set_rng_state(state["torch"])
    cuda = state["cuda"]
    if isinstance(cuda, list):  # resume.pt of version 1.0 kept every visible GPU's generator
        cuda = cuda[device.index or 0] if device.type == "cuda" and len(cuda) > (device.index or 0) else None
    if cuda is not None and device.type == "cuda":
        torch.cuda.set_rng_state(cuda, device)
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(state["random"])


def check_optimizer_state(state: dict, params: list[torch.Tensor]) -> str | None:
    """What is wrong with an optimizer state_dict for `params` (other shapes, values not finite), or None."""
    moments = state.get("state") if isinstance(state, dict) else None
    if not isinstance(moments, dict):
        return "no optimizer state"
    for index, entries in moments.items():
        if not isinstance(index, int) or not 0 <= index < len(params) or not isinstance(entries, dict):
            return "optimizer state of other parameters than the model's"
        for value in entries.values():
            if torch.is_tensor(value) and (value.ndim and value.shape != params[index].shape
                                           or not torch.isfinite(value).all()):
                return "optimizer state of other shapes than the model's, or not finite"
    return None


class ResumeState:
    """The resume.pt of one run: written every --resume_every epochs, read back by --resume."""

    def __init__(self, config, model: torch.nn.Module, optimizer: torch.optim.Optimizer):
        self.config, self.model, self.optimizer = config, model, optimizer
        self.path = config.save_dir / "resume.pt"

    def run_args(self) -> dict:
        return {k: getattr(self.config, k) for k in RUN_ARGS}

    def save_task(self, epoch: int, best_loss: float | None, best_epoch: int | None,
                  extra: dict | None = None) -> Callable[[], None]:
        """A task writing resume.pt after `epoch`: the state is serialized now, the file written when it runs.
        `extra`: more of the trainer's state (plain values), handed back by load()."""
        state = {"epoch": epoch, "args": self.run_args(), "model": self.model.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "best_loss": best_loss, "best_epoch": best_epoch,
                 "rng": rng_state(self.config.device), "extra": extra or {}}
        return functools.partial(fileio.write_bytes, self.path, torch_bytes(state))

    def load(self) -> tuple[int, float | None, int | None, dict] | None:
        """Restore the model, optimizer and generators; (epoch, best loss, best epoch, extra), or None without a
        file. Everything is checked on the CPU before anything is restored."""
        if not self.path.is_file():
            return None
        state = torch_load(self.path, "resume file", "cpu", "; start over with --overwrite")
        broken = f"{self.path}: not a resume file of this run ({{}}); start over with --overwrite"
        if not isinstance(state, dict) or not set(RESUME_KEYS) <= set(state) or not isinstance(state["args"], dict):
            raise UserError(broken.format(f"expected the entries {', '.join(RESUME_KEYS)}"))
        epoch, best_loss, best_epoch = state["epoch"], state["best_loss"], state["best_epoch"]
        if not isinstance(epoch, int) or not 0 <= epoch < self.config.n_epochs:
            raise UserError(broken.format(f"epoch {epoch!r} is not one of 0..{self.config.n_epochs - 1}"))
        if not (best_loss is None and best_epoch is None or isinstance(best_loss, float) and math.isfinite(best_loss)
                and isinstance(best_epoch, int)):
            raise UserError(broken.format(f"best loss {best_loss!r} at epoch {best_epoch!r}"))
        changed = [f"--{k} {state['args'].get(k)} (now {v})" for k, v in self.run_args().items()
                   if state["args"].get(k) != v]
        if changed:
            raise UserError(f"{self.path}: the run was started with other arguments: {', '.join(changed)}; "
                            f"resume with the same ones, or start over with --overwrite")
        weights = state["model"]
        if isinstance(weights, dict) and not all(torch.is_tensor(v) and torch.isfinite(v).all()
                                                 for v in weights.values()):
            raise UserError(broken.format("NaN or infinite weights"))
        wrong = check_optimizer_state(state["optimizer"], [p for group in self.optimizer.param_groups
                                                           for p in group["params"]])
        if wrong:
            raise UserError(broken.format(wrong))
        extra = state.get("extra", {})
        if not isinstance(extra, dict):
            raise UserError(broken.format("its extra state is not a dictionary"))
        try:
            self.model.load_state_dict(weights)
            self.optimizer.load_state_dict(state["optimizer"])
            set_rng_state(state["rng"], self.config.device)
        except (AttributeError, IndexError, KeyError, RuntimeError, TypeError, ValueError) as e:
            raise UserError(broken.format(" ".join(str(e).split()) or type(e).__name__))
        return epoch, best_loss, best_epoch, extra
