"""Shared fixtures: the repository root on sys.path, the golden vectors (tests/golden/), and the dataset files some
tests read (the real TVSum annotations, the published splits), which are looked for where `python data/download.py
datasets` puts them, then in a `shared/data` folder beside the checkout; a test needing one skips, naming it, when
it is in neither place."""
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
