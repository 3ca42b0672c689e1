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
from itertools import islice


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


def ordered_map(fn: Callable, items: Iterable, workers: int = 2, chunk: int = 8,
                depth: int = 4) -> Iterator:
    """``map(fn, items)`` on a pool of ``workers`` threads, in order. Items go to the pool
    ``chunk`` at a time (a tiny frame converts in microseconds, less than handing it to a
    thread costs), at most ``depth`` chunks ahead of the consumer, so a long video is never
    decoded whole into memory."""
    def run(batch: list) -> tuple[list, BaseException | None]:
        done = []
        try:
            for item in batch:
                done.append(fn(item))
        except BaseException as exc:  # raised at its item, after the ones before it
            return done, exc
        return done, None

    def results(future) -> Iterator:
        done, exc = future.result()
        yield from done
        if exc is not None:
            raise exc

    items = iter(items)
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        while batch := list(islice(items, chunk)):
            pending.append(pool.submit(run, batch))
            if len(pending) > depth:
                yield from results(pending.popleft())
        while pending:
            yield from results(pending.popleft())
