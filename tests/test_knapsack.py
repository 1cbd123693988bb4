"""The vectorised knapsack gives exactly the selections of the textbook recurrence, ties included."""
import itertools
from fractions import Fraction

import numpy as np
import pytest

from evaluation.knapsack_dp import knapsack, knapsack_batch
from tests.plain_baselines import knapsack as recurrence  # the textbook table, one Python cell at a time

pytestmark = pytest.mark.numeric  # compared with golden numbers: CI runs them under the AVX2 kernels too


def brute_force(capacity, lengths, values):
    """Exhaustive search in exact arithmetic, with the recurrence's tie rule: walking from the last item down,
    take item i when taking it is strictly better than the best without it, given the capacity left."""
    exact = [Fraction(v) for v in values]

    def best(n_items, room):
        return max(sum(exact[i] for i in subset) for r in range(n_items + 1)
                   for subset in itertools.combinations(range(n_items), r)
                   if sum(lengths[i] for i in subset) <= room)

    selected, room = [], capacity
    for i in range(len(values) - 1, -1, -1):
        if lengths[i] <= room and exact[i] + best(i, room - lengths[i]) > best(i, room):
            selected.insert(0, i)
            room -= lengths[i]
    return selected


def random_instance(rng, max_items, ties):
    n = int(rng.integers(0, max_items + 1))
    lengths = rng.integers(1, int(rng.choice([3, 8, 30])) + 1, n).tolist()
    capacity = int(rng.integers(0, sum(lengths) + 3))
    if ties:
        values = (rng.integers(0, 5, n) / 8).tolist()  # few distinct dyadic values: many exact ties
    else:
        values = rng.random(n).astype(np.float32).astype(float).tolist()
    return capacity, lengths, values


@pytest.mark.parametrize("ties", [True, False])
def test_matches_brute_force_on_small_instances(ties):
    rng = np.random.default_rng(7 if ties else 8)
    for _ in range(150):
        capacity, lengths, values = random_instance(rng, 8, ties)
        chosen = knapsack(capacity, lengths, values)
        if ties:  # dyadic values: float sums are exact, so the exact tie rule must give the same items
            assert chosen == brute_force(capacity, lengths, values)
        else:
            assert sum(lengths[i] for i in chosen) <= capacity
            assert sum(values[i] for i in chosen) == pytest.approx(
                float(max(sum(Fraction(values[i]) for i in s) for r in range(len(values) + 1)
                          for s in itertools.combinations(range(len(values)), r)
                          if sum(lengths[i] for i in s) <= capacity)), abs=1e-12)


@pytest.mark.parametrize("ties", [True, False])
def test_batch_matches_recurrence(ties):
    rng = np.random.default_rng(11 if ties else 12)
    for _ in range(40):
        capacity, lengths, _ = random_instance(rng, 25, ties)
        batch = rng.random((int(rng.integers(1, 9)), len(lengths)))
        if ties:
            batch = np.round(batch * 4) / 4
        batch = batch.astype(np.float32).astype(np.float64)
        got = knapsack_batch(capacity, lengths, batch)
        assert got.shape == batch.shape
        for row, values in zip(got, batch):
            assert np.flatnonzero(row).tolist() == recurrence(capacity, lengths, values.tolist())


def test_zero_length_items_follow_the_recurrence():
    """Shots of no frames (Mr.HiSum's repeated boundaries): taken where they raise K at w >= 1, column 0 stays 0."""
    rng = np.random.default_rng(13)
    for _ in range(60):
        capacity, lengths, _ = random_instance(rng, 20, ties=False)
        lengths = [0 if rng.random() < 0.3 else length for length in lengths]
        batch = rng.random((4, len(lengths)))
        batch[1] = np.round(batch[1] * 4) / 4
        batch[2, : len(lengths) // 2] = 0.0
        for row, values in zip(knapsack_batch(capacity, lengths, batch), batch):
            assert np.flatnonzero(row).tolist() == recurrence(capacity, lengths, values.tolist())
    assert knapsack(0, [0, 0], [0.5, 0.5]) == []  # no room: even an empty shot is not taken at w = 0
    assert knapsack(3, [0, 2], [0.5, 0.5]) == [0, 1]


def test_shot_sized_instances_in_small_chunks(monkeypatch):
    """Video-like sizes, with the batch split into several chunks of rows."""
    import evaluation.knapsack_dp as module
    monkeypatch.setattr(module, "CHUNK_CELLS", 3000)
    rng = np.random.default_rng(3)
    lengths = rng.integers(20, 160, 40).tolist()
    capacity = int(sum(lengths) * 0.15)
    batch = rng.random((7, 40)).astype(np.float32).astype(np.float64)
    batch[3] = np.round(batch[3] * 2) / 2
    batch[5] = 0.5
    got = knapsack_batch(capacity, lengths, batch)
    for row, values in zip(got, batch):
        assert np.flatnonzero(row).tolist() == recurrence(capacity, lengths, values.tolist())


def test_edge_cases():
    assert knapsack(0, [1, 2], [0.5, 0.7]) == []
    assert knapsack(5, [], []) == []
    assert knapsack(3, [4, 5], [0.9, 0.8]) == []
    assert knapsack(10, [2, 3], [0.1, 0.2]) == [0, 1]
    assert knapsack(2, [1, 1, 1], [0.5, 0.5, 0.5]) == [0, 1]  # a later item must be strictly better to replace one
    assert knapsack(1, [1, 1], [0.0, 0.0]) == []  # zero value never changes the table
    assert knapsack(7, [2, 2, 1, 1, 1, 2], [4, 4, 2, 2, 2, 4]) == recurrence(7, [2, 2, 1, 1, 1, 2], [4, 4, 2, 2, 2, 4])


@pytest.mark.parametrize("capacity, lengths, values, message", [
    (5, [1, -1], [[0.1, 0.2]], "non-negative"),
    (5, [1, 2], [[0.1, float("nan")]], "finite"),
    (-1, [1, 2], [[0.1, 0.2]], "capacity"),
    (5, [1, 2], [[0.1, 0.2, 0.3]], "values must be"),
])
def test_rejects_invalid_input(capacity, lengths, values, message):
    with pytest.raises(ValueError, match=message):
        knapsack_batch(capacity, lengths, values)
