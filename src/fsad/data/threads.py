"""Small thread pipelines for extraction: OpenCV releases the GIL while it decodes, converts
and resizes, so threads overlap that work on several cores with no copies between
processes. The helpers keep the order of their input and hand errors to the consumer at
the item where they happened."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import islice


def batches(items: Iterable, n: int) -> Iterator[list]:
    """Lists of ``n`` consecutive items (the last one shorter)."""
    items = iter(items)
    while batch := list(islice(items, n)):
        yield batch


def prefetch(items: Iterable, depth: int = 32) -> Iterator:
    """``items``, produced by a background thread up to ``depth`` ahead: decoding (OpenCV
    releases the GIL) overlaps with converting and writing. The one-stream case of
    ``ordered_streams``: errors reach the consumer in order; a consumer that stops early
    stops the producer."""
    streams = ordered_streams([lambda: items], workers=1, depth=depth, chunk=1)
    try:
        yield from next(streams)
    finally:
        streams.close()


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

    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for batch in batches(items, chunk):
            pending.append(pool.submit(run, batch))
            if len(pending) > depth:
                yield from results(pending.popleft())
        while pending:
            yield from results(pending.popleft())


def ordered_streams(streams: Sequence[Callable[[], Iterable]], workers: int = 2,
                    depth: int = 32, chunk: int = 8) -> Iterator[Iterator]:
    """One iterator per stream, in order, over the items of ``streams[i]()``, each stream
    produced by one of ``workers`` threads: several videos decode at once, yet the consumer
    sees them one after another (so the store's bytes never depend on thread timing). Items
    are handed over ``chunk`` at a time; the streams ahead of the consumer's buffer at most
    ``depth`` chunks all together, the one being consumed ``depth`` of its own. Consume each
    iterator fully before taking the next. An error is raised in the consumer at the item
    where it happened; a consumer that stops early stops the threads."""
    cond = threading.Condition()
    queues: list[deque] = [deque() for _ in streams]
    state = {"head": -1, "ahead": 0, "next": 0, "stop": False}  # head: the stream consumed
    done = object()
    finished: set[int] = set()

    def put(i: int, entry) -> bool:
        with cond:
            while not state["stop"] and (len(queues[i]) >= depth if i == state["head"]
                                         else state["ahead"] >= depth):
                cond.wait()
            if state["stop"]:
                return False
            queues[i].append(entry)
            if i != state["head"]:
                state["ahead"] += 1
            cond.notify_all()
            return True

    def produce(i: int) -> bool:
        items = None
        try:
            items = iter(streams[i]())
            for batch in batches(items, chunk):
                if not put(i, (batch, None)):
                    return False
        except BaseException as exc:  # handed to the consumer, raised there
            put(i, (done, exc))
            return False
        finally:
            if hasattr(items, "close"):
                items.close()  # a generator's clean-up (a video released) runs now
        return put(i, (done, None))

    def work() -> None:
        while True:
            with cond:
                i = state["next"]
                if i >= len(streams) or state["stop"]:
                    return
                state["next"] += 1
            if not produce(i):
                return

    def take(i: int) -> Iterator:
        while True:
            with cond:
                while not queues[i]:
                    cond.wait()
                batch, exc = queues[i].popleft()
                cond.notify_all()
            if batch is done:
                finished.add(i)
                if exc is not None:
                    raise exc
                return
            yield from batch

    threads = [threading.Thread(target=work, daemon=True)
               for _ in range(min(workers, len(streams)))]
    for t in threads:
        t.start()
    try:
        for i in range(len(streams)):
            with cond:
                state["ahead"] -= len(queues[i])  # its buffer now counts as the head's
                state["head"] = i
                cond.notify_all()
            yield take(i)
            if i not in finished:
                raise RuntimeError(f"stream {i} was left before its end; consume each "
                                   "stream fully before taking the next")
    finally:
        with cond:
            state["stop"] = True
            cond.notify_all()
        for t in threads:
            t.join()
