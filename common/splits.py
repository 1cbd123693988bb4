"""The splits file: a JSON list of {"train_keys": [...], "test_keys": [...]} objects (docs/method.md, "Data"), or
Mr.HiSum's single object {"train_keys", "val_keys", "test_keys"} (docs/mrhisum.md), which is one split.

Every command takes the number of splits and each split's videos from this file, so a 3-split or a 50-split file
works end to end like the paper's 5 splits.
"""
from pathlib import Path

from common import fileio
from common.errors import UserError
from common.hints import missing_data_hint

Split = dict[str, list[str]]


def load_splits(path: Path) -> list[Split]:
    """The splits of a splits JSON file, validated: a non-empty list of objects whose train_keys and test_keys are
    non-empty lists of video names. Anything else is a one-line UserError naming the file."""
    path = Path(path)
    splits = fileio.read_json(path, "splits file", missing_data_hint(path))
    if isinstance(splits, dict) and "train_keys" in splits:
        splits = [splits]  # Mr.HiSum's layout: one split, with validation videos
    if not isinstance(splits, list) or not splits:
        raise UserError(f"{path}: expected a non-empty JSON list of splits, or one object with train_keys, "
                        f"val_keys and test_keys")
    for k, split in enumerate(splits):
        if not isinstance(split, dict):
            raise UserError(f"{path}: split {k} is not an object with train_keys and test_keys")
        for part in ("train_keys", "test_keys", "val_keys"):
            keys = split.get(part)
            if part == "val_keys" and keys is None:
                continue
            if not isinstance(keys, list) or not keys or not all(isinstance(key, str) for key in keys):
                raise UserError(f"{path}: split {k}: {part} must be a non-empty list of video names")
    return splits
