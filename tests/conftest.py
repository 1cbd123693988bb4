"""Shared fixtures: the repository root on sys.path, and the shared test vectors when `../shared` exists."""
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def shared():
    """The `../shared` folder beside the checkout (golden vectors, splits, TVSum annotations), or skip."""
    if not (SHARED / "golden").is_dir():
        pytest.skip(f"{SHARED} not found: golden vectors are only available beside the project checkout")
    return SHARED


@pytest.fixture(scope="session")
def golden(shared):
    """Load a golden JSON by file name."""
    return lambda name: json.loads((shared / "golden" / name).read_text())


@pytest.fixture(scope="session")
def recipes(shared):
    """The golden `recipes` module, which rebuilds every golden input deterministically."""
    sys.path.insert(0, str(shared / "golden"))
    import recipes as module
    return module


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a module of tiny tensors: faster, and much faster on a busy machine."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
