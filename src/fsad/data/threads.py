"""Small thread pipelines for extraction: OpenCV releases the GIL while it decodes, converts
and resizes, so threads overlap that work on several cores with no copies between
processes. Both helpers keep the order of their input and hand errors to the consumer at
the item where they happened."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor


def prefetch(items: Iterable, depth: int = 32) -> Iterator:
    """``items``, produced by a background thread up to ``depth`` ahead: decoding (OpenCV
    releases the GIL) overlaps with converting and writing. Errors reach the consumer in
    order; a consumer that stops early stops the producer."""
    box: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    done = object()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                box.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((done, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((done, exc))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            item, exc = box.get()
            if item is done:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        worker.join()


def ordered_map(fn: Callable, items: Iterable, workers: int = 2, depth: int = 16) -> Iterator:
    """``map(fn, items)`` on a pool of ``workers`` threads, in order, at most ``depth`` items
    ahead of the consumer (so a long video is never decoded whole into memory)."""
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
