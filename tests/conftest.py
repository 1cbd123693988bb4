"""Shared fixtures: the repository root on sys.path, the golden vectors (tests/golden/), the devices a test runs on,
and the dataset files some tests read (the real TVSum annotations, the published splits), which are looked for where
`python data/download.py datasets` puts them, then in a `shared/data` folder beside the checkout; a test needing one
skips, naming it, when it is in neither place.

Two markers sort the tests (pyproject.toml): `slow` ones (grids, SLURM, torchrun, Chromium, demos, long videos, 50
splits) run only with `--slow` (what CI runs: `.ci/run`), so that a plain `python -m pytest -q` is the fast tier; `gpu`
ones skip, saying so, where no CUDA device is.
"""
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from common.hints import missing_data_hint
from tests.golden_inputs import GOLDEN

DATASET_FOLDERS = (REPO / "data", REPO.parent / "shared" / "data")


def dataset_file(relative: str) -> Path:
    """The dataset file `relative` (e.g. "TVSum/ydata-anno.rar") from data/ or ../shared/data/, or skip."""
    for folder in DATASET_FOLDERS:
        if (folder / relative).is_file():
            return folder / relative
    pytest.skip(f"data/{relative} not found{missing_data_hint(Path(relative))}")


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true",
                     help="also run the tests marked slow (grids, SLURM, torchrun, Chromium, demos, long videos)")


def pytest_collection_modifyitems(config, items):
    """Without --slow (or an explicit -m), leave out the slow tests, counted as deselected."""
    if config.getoption("--slow") or config.getoption("markexpr"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def pytest_runtest_setup(item):
    if item.get_closest_marker("gpu"):
        import torch
        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA GPU (none here)")


@pytest.fixture(params=["cpu", "meta", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    """A device to compute on: the CPU; `meta`, which stands in for a GPU on a machine without one (its tensors have
    shapes but no values: an operation mixing one with a CPU tensor fails, as it would on CUDA, and so does reading a
    value back to the host, which on a GPU would wait for it); and CUDA where present."""
    import torch
    return torch.device(request.param)


@pytest.fixture(scope="session")
def golden():
    """Load a golden JSON of tests/golden/ by file name."""
    return lambda name: json.loads((GOLDEN / name).read_text())


@pytest.fixture(scope="session")
def anno_path():
    """The real TVSum annotations (ydata-anno.rar)."""
    return dataset_file("TVSum/ydata-anno.rar")


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a module of tiny tensors: faster, and much faster on a busy machine."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def recipes():
    """The recipes that rebuild the golden inputs (tests/golden_inputs.py)."""
    from tests import golden_inputs
    return golden_inputs
