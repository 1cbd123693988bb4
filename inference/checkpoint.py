"""Loading a CA-SUM state_dict (the authors' released files or our own training) with clear errors."""
import warnings
from pathlib import Path

import torch

from model.errors import UserError
from model.layers.summarizer import CA_SUM


def expected_shapes(input_size, output_size):
    """The state_dict layout of CA_SUM (SPEC section 2): key -> shape."""
    return {k: tuple(v.shape) for k, v in CA_SUM(input_size, output_size, 1).state_dict().items()}


def read_state_dict(path, device="cpu"):
    """The tensors of a checkpoint file, mapped to `device` (files saved on a CUDA device load anywhere)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint file not found")
    try:
        with warnings.catch_warnings():  # torch warns about odd pickles before failing on them; the error says it
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # the unpickler raises many types on a file that is not a checkpoint
        reason = str(e).strip().splitlines()[0].split(". ")[0] if str(e).strip() else type(e).__name__
        raise UserError(f"{path}: not a PyTorch checkpoint ({reason})") from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{path}: not a CA-SUM state_dict (expected a dict of tensors)")
    return state


def load_model(path, device="cpu", block_size=60, input_size=None):
    """A CA_SUM in eval mode with the weights of `path`; its sizes are read off the weights.

    `input_size`, when given, is the feature width the caller will feed (the dataset's or the backbone's): a
    checkpoint made for another width is rejected with the width it implies.
    """
    state = read_state_dict(path, device)
    expected_keys = list(expected_shapes(1, 1))
    missing = [k for k in expected_keys if k not in state]
    unexpected = [k for k in state if k not in expected_keys]
    if missing or unexpected:
        parts = ([f"missing keys: {', '.join(missing)}"] if missing else []) + (
            [f"unexpected keys: {', '.join(unexpected)}"] if unexpected else [])
        raise UserError(f"{path}: not a CA-SUM state_dict ({'; '.join(parts)})")
    if state["linear_1.weight"].ndim != 2 or state["attention.Wk.weight"].ndim != 2:
        raise UserError(f"{path}: linear_1.weight {tuple(state['linear_1.weight'].shape)} and attention.Wk.weight "
                        f"{tuple(state['attention.Wk.weight'].shape)} must be matrices")
    D, H = state["linear_1.weight"].shape[1], state["attention.Wk.weight"].shape[0]
    wrong = [f"{k} {tuple(state[k].shape)} (expected {shape})"
             for k, shape in expected_shapes(D, H).items() if tuple(state[k].shape) != shape]
    if wrong:
        raise UserError(f"{path}: inconsistent shapes for a CA-SUM with input_size {D}, output_size {H}: {'; '.join(wrong)}")
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
