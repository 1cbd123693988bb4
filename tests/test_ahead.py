"""inference/video/ahead.py: an iterator run ahead in a thread keeps its order, its errors and its end."""
import threading

import pytest

from inference.video.ahead import ahead


def test_items_in_order_from_another_thread():
    threads = []

    def items():
        for i in range(100):
            threads.append(threading.current_thread().name)
            yield i

    assert list(ahead(items(), 3, "producer")) == list(range(100))
    assert set(threads) == {"producer"}


def test_error_is_raised_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("frame 3 is broken")

    received = []
    with pytest.raises(ValueError, match="frame 3 is broken"):
        for item in ahead(items(), 8, "producer"):
            received.append(item)
    assert received == [1, 2]


def test_closing_early_stops_and_closes_the_producer():
    """The consumer takes 3 of a million items: the producer stops within `size` items of it, and its generator is
    closed (its finally runs) before close() returns."""
    produced, closed = [], threading.Event()

    def items():
        try:
            for i in range(1_000_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    stream = ahead(items(), 4, "producer")
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    assert closed.is_set()
    assert len(produced) <= 3 + 4 + 1
    assert not any(t.name == "producer" for t in threading.enumerate())
