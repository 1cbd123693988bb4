"""Running an iterator ahead of its consumer, in a thread of its own.

Decoding, encoding and the backbone spend their time in FFmpeg and PyTorch, which release the GIL: a producer in a
thread of its own keeps a core busy while the consumer works on the previous items. The queue between the two is
bounded, so memory stays flat however long the video.
"""
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


class _Failed:
    """What the producer raised, on its way to the consumer."""

    def __init__(self, error: BaseException):
        self.error = error


def ahead(items: Iterable[T], size: int, name: str) -> Iterator[T]:
    """The items of `items`, produced in a thread named `name` up to `size` items ahead.

    An exception raised in the producer is raised here, in the consumer, after the items before it. Closing this
    generator (or leaving a loop over it early) stops the producer after its current item; the producer's own
    iterator is closed in its thread.
    """
    out: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put(item):
                    return
            put(_END)
        except BaseException as e:  # handed to the consumer, which raises it
            put(_Failed(e))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while (item := out.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()
