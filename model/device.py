"""Where a command computes, and how exactly (docs/reproducibility.md, "Where each guarantee holds").

`numerics` is the numeric policy every torch command holds while it computes: float32 products and convolutions in
full float32 precision, not TensorFloat-32 (on by default for cuDNN's convolutions on Ampere and later GPUs, where it
moves the video backbone's features by about 1e-3 from the CPU's: enough to move shot boundaries and knapsack
picks), unless asked for; and on CUDA, PyTorch's deterministic algorithms, so that two runs on the same GPU give the
same numbers. The policy is process-wide in PyTorch, so it is set by the command's `main` for the time it runs and
set back afterwards.
"""
import contextlib
import os
from collections.abc import Iterator

import torch

from common.errors import UserError

CUBLAS_WORKSPACE = ":4096:8"  # what cuBLAS needs to be deterministic (PyTorch's reproducibility notes)


def resolve_device(name: str) -> torch.device:
    """The torch device of --device: auto is CUDA when available, else the CPU."""
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def _fp32_backends() -> list[object]:
    """The backends whose float32 precision PyTorch lets one choose: cuBLAS's products, cuDNN's convolutions."""
    return [torch.backends.cuda.matmul, torch.backends.cudnn.conv]


@contextlib.contextmanager
def numerics(device: torch.device, tf32: bool = False) -> Iterator[None]:
    """Hold the numeric policy of the module docstring while the block runs; `tf32` allows TensorFloat-32 (faster
    on recent GPUs, about 1e-3 relative error) instead of full float32."""
    precision = "tf32" if tf32 else "ieee"
    backends = _fp32_backends()
    before = [backend.fp32_precision for backend in backends]
    deterministic = torch.are_deterministic_algorithms_enabled()
    cudnn = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    workspace = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    try:
        for backend in backends:
            backend.fp32_precision = precision
        if device.type == "cuda":
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
            torch.use_deterministic_algorithms(True)
        yield
    finally:
        for backend, value in zip(backends, before):
            backend.fp32_precision = value
        torch.use_deterministic_algorithms(deterministic)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
        if workspace is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
