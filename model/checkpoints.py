"""Everything a run keeps on disk besides its scores and resume state (model/resume.py): checkpoints (plain
state_dicts, like the authors' released models), and the background thread that writes files while training goes on.

One loader, `torch_load`, reads every file made with torch.save (checkpoints, resume.pt, backbone weights) and turns
whatever torch raises on a bad file into one line naming it.
"""
import io
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from common import fileio
from common.errors import UserError
from model.layers.summarizer import CA_SUM

SHOWN_KEYS = 4  # at most this many missing or unexpected keys are named in an error
GOOGLENET_KEYS = ("conv1.conv.weight", "inception3a.branch1.conv.weight")


def torch_load(path: Path, what: str, device: str | torch.device = "cpu", hint: str = "") -> object:
    """torch.load(path) with weights_only (tensors and plain values), storages mapped to `device` (files saved on a
    CUDA device load anywhere); a missing or unreadable file is a one-line UserError calling it a `what`, followed
    by `hint` (what to do about it)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: {what} not found")
    try:
        with warnings.catch_warnings():  # torch warns about odd pickles before failing on them; the error says it
            warnings.simplefilter("ignore")
            return torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # the unpickler raises many types on a file that is not a checkpoint
        first = str(e).strip().splitlines()[0].split(". ")[0] if str(e).strip() else type(e).__name__
        raise UserError(f"{path}: not a PyTorch {what} ({first[:160]}){hint}") from None


def torch_bytes(obj: object) -> bytes:
    """torch.save of `obj` into bytes (the same bytes as in a file: the archive is named alike)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def expected_shapes(input_size: int, output_size: int) -> dict[str, tuple[int, ...]]:
    """The state_dict layout of CA_SUM (docs/method.md, "The network"): key -> shape."""
    return {k: tuple(v.shape) for k, v in CA_SUM(input_size, output_size, 1).state_dict().items()}


def listed(keys: list[str]) -> str:
    """The first SHOWN_KEYS keys, and how many more there are."""
    more = f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
    return ", ".join(keys[:SHOWN_KEYS]) + more


def read_state_dict(path: Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """The CA-SUM state_dict of a checkpoint file (or of the model entry of a resume.pt), checked key by key."""
    state = torch_load(path, "checkpoint", device)
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{path}: not a CA-SUM state_dict (expected a dict of tensors)")
    expected_keys = list(expected_shapes(1, 1))
    missing = [k for k in expected_keys if k not in state]
    unexpected = [k for k in state if k not in expected_keys]
    if all(k in state for k in GOOGLENET_KEYS):
        raise UserError(f"{path}: this is a GoogLeNet state_dict (the feature backbone), not a CA-SUM checkpoint; "
                        f"give it as --backbone_weights")
    if missing or unexpected:
        parts = ([f"missing keys: {listed(missing)}"] if missing else []) + (
            [f"unexpected keys: {listed(unexpected)}"] if unexpected else [])
        raise UserError(f"{path}: not a CA-SUM state_dict ({'; '.join(parts)})")
    return state


def load_model(path: Path, device: str | torch.device = "cpu", block_size: int = 60,
               input_size: int | None = None) -> CA_SUM:
    """A CA_SUM in eval mode with the weights of the checkpoint `path`; its sizes are read off the weights.

    Args:
        path: a state_dict saved with torch.save (the authors' released files or this project's checkpoints).
        device: where the model goes.
        block_size: the attention block size the model was trained with (not stored in a state_dict).
        input_size: the feature width the caller will feed (the dataset's or the backbone's), when known: a
            checkpoint made for another width is refused with the width it implies.
    Returns:
        The model, in eval mode.
    """
    state = read_state_dict(path, device)
    if state["linear_1.weight"].ndim != 2 or state["attention.Wk.weight"].ndim != 2:
        raise UserError(f"{path}: linear_1.weight {tuple(state['linear_1.weight'].shape)} and attention.Wk.weight "
                        f"{tuple(state['attention.Wk.weight'].shape)} must be matrices")
    D, H = state["linear_1.weight"].shape[1], state["attention.Wk.weight"].shape[0]
    wrong = [f"{k} {tuple(state[k].shape)} (expected {shape})"
             for k, shape in expected_shapes(D, H).items() if tuple(state[k].shape) != shape]
    if wrong:
        raise UserError(f"{path}: inconsistent shapes for a CA-SUM with input_size {D}, output_size {H}: "
                        f"{'; '.join(wrong[:SHOWN_KEYS])}")
    for key, value in state.items():
        if value.layout != torch.strided or not value.is_floating_point():
            raise UserError(f"{path}: {key} is not a dense floating-point tensor ({value.dtype}, {value.layout})")
        if not torch.isfinite(value).all():
            raise UserError(f"{path}: {key} contains NaN or infinite weights")
    if input_size is not None and D != input_size:
        raise UserError(f"{path}: the checkpoint implies input_size {D} (output_size {H}), "
                        f"but the features are {input_size}-d")
    model = CA_SUM(D, H, block_size).to(device)
    model.load_state_dict(state)
    return model.eval()


class BackgroundWriter:
    """Runs batches of write tasks on a worker thread, in order, so that training goes on while files reach the disk.

    submit() first waits for the previous batch, so at most one is pending. The first error of a task is raised
    again by the next submit() or by wait(); leaving a `with` block waits too (quietly when an exception is already
    on its way out).
    """

    def __init__(self):
        self._thread, self._error = None, None

    def submit(self, tasks: Iterable[Callable[[], None]]) -> None:
        self.wait()
        thread = threading.Thread(target=self._run, args=(list(tasks),), name="BackgroundWriter", daemon=True)
        thread.start()
        self._thread = thread  # only a started thread: Ctrl-C may come between the two lines above

    def _run(self, tasks):
        try:
            for task in tasks:
                task()
        except BaseException as e:  # handed to the main thread, which raises it
            self._error = e

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.wait()
        elif self._thread is not None:
            self._thread.join()


def checkpoint_task(save_dir: Path, kind: str, epoch: int, model: torch.nn.Module) -> Callable[[], None]:
    """A task writing {save_dir}/{kind}_epoch{e}.pt (state_dict, CPU tensors), then removing the previous file of
    that kind; the weights are serialized now, the file is written when the task runs."""
    path = Path(save_dir) / f"{kind}_epoch{epoch}.pt"
    data = torch_bytes({k: v.detach().cpu() for k, v in model.state_dict().items()})

    def write():
        fileio.write_bytes(path, data)
        for old in Path(save_dir).glob(f"{kind}_epoch*.pt"):
            if old != path:
                old.unlink()
    return write
