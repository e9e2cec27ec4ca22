"""Where parallel work runs: a local process pool, or a Dask cluster, behind one small interface.

The one execution abstraction of corridor: sweeps (chunks of points), a run's replications
and the mode choice's fixed point (replications per iteration) all go through it, so a fix
or a feature (retries, a dead worker replaced, Dask) applies to all three.

``map_unordered(fn, tasks)`` yields ``(task, result)`` as tasks finish, pulling tasks lazily
so only a few are in flight (memory stays flat however long the sweep). A task whose worker
dies is retried on a fresh worker; after ``max_attempts`` it comes back as :class:`Lost`, so
the sweep records it and goes on. ``fn`` must be a module-level function (it is pickled by
reference) and should not raise: a run that fails is data, not an executor problem.

- :class:`LocalPool` (the default): one process per worker slot, each given one task at a
  time, so when a process dies the pool knows exactly which task it was running; the slot
  gets a new process. Processes come from a ``forkserver`` that has imported the simulator
  once, so replacements start in milliseconds and never inherit the parent's threads.
- :class:`DaskPool`: ``local`` starts a ``LocalCluster`` (one single-threaded worker process
  per worker); ``tcp://HOST:PORT`` uses a running scheduler, the way past one machine. Every
  worker imports the simulator when the pool starts (a worker that cannot is an input error
  naming the module), so no task pays for the import. Dask's
  nannies restart dead workers and the scheduler reschedules their tasks; a task that keeps
  killing workers raises ``KilledWorker``, which becomes :class:`Lost`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import importlib
import logging
import multiprocessing as mp
import multiprocessing.connection as mpc
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sim.errors import ConfigError

Task = Any
Result = Any
_END = object()


@dataclass(frozen=True)
class Lost:
    """A task that could not be completed (its worker died every time, or it raised)."""

    reason: str


class Executor(Protocol):
    workers: int
    description: str

    def map_unordered(
        self, fn: Callable[[Task], Result], tasks: Iterable[Task]
    ) -> Iterator[tuple[Task, Result | Lost]]: ...

    def close(self) -> None: ...


def _serve(conn: mpc.Connection) -> None:
    """A worker slot's loop: receive (fn, task), send back ("ok", result) or ("error", text)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, task = message
        try:
            reply: tuple[str, Any] = ("ok", fn(task))
        except Exception as exc:  # fn should not raise; if it does, report it, do not die
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except OSError:  # the parent has gone (interrupted, or its forkserver was killed)
            return


class _Slot:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.task: Task = _END
        self.attempts = 0

    def stop(self, kill: bool) -> None:
        try:
            if kill:
                self.proc.kill()
            else:
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(timeout=2 if not kill else 5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)
        self.conn.close()


class LocalPool:
    """``workers`` processes on this machine; a dead one is replaced and its task retried."""

    def __init__(
        self, workers: int, max_attempts: int = 3, preload: tuple[str, ...] = ("sim.sweep.runner",)
    ) -> None:
        self.workers = max(1, workers)
        self.max_attempts = max_attempts
        self.description = f"local process pool, {self.workers} worker(s)"
        self.replaced = 0
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
        self._ctx = ctx
        self._slots = [_Slot(ctx) for _ in range(self.workers)]

    def map_unordered(
        self, fn: Callable[[Task], Result], tasks: Iterable[Task]
    ) -> Iterator[tuple[Task, Result | Lost]]:
        source = iter(tasks)
        retries: collections.deque[tuple[Task, int]] = collections.deque()
        exhausted = False
        while True:
            for slot in self._slots:
                if slot.task is not _END:
                    continue
                if retries:
                    task, attempts = retries.popleft()
                elif not exhausted:
                    task = next(source, _END)
                    if task is _END:
                        exhausted = True
                        continue
                    attempts = 0
                else:
                    continue
                slot.task, slot.attempts = task, attempts
                with contextlib.suppress(OSError):  # a dead process: its sentinel wakes us
                    slot.conn.send((fn, task))
            busy = [s for s in self._slots if s.task is not _END]
            if not busy:
                return
            ready = set(mpc.wait([s.conn for s in busy] + [s.proc.sentinel for s in busy]))
            for i, slot in enumerate(self._slots):
                if slot.task is _END or not (slot.conn in ready or slot.proc.sentinel in ready):
                    continue
                task, attempts = slot.task, slot.attempts
                reply: tuple[str, Any] | None = None
                try:
                    if slot.conn.poll():
                        reply = slot.conn.recv()
                except (EOFError, OSError):
                    reply = None
                if reply is None:
                    if slot.proc.is_alive():  # a spurious wake-up: nothing to read yet
                        continue
                    code = slot.proc.exitcode
                    slot.stop(kill=True)
                    self._slots[i] = _Slot(self._ctx)
                    self.replaced += 1
                    if attempts + 1 < self.max_attempts:
                        retries.append((task, attempts + 1))
                    else:
                        yield (
                            task,
                            Lost(
                                f"worker process died (exit code {code}) on each of "
                                f"{attempts + 1} attempts"
                            ),
                        )
                    continue
                slot.task = _END
                status, payload = reply
                yield task, (payload if status == "ok" else Lost(str(payload)))

    def close(self) -> None:
        for slot in self._slots:
            slot.stop(kill=slot.task is not _END)
        self._slots = []


WORKER_CONFIG: dict[str, Any] = {"distributed.worker.profile.enabled": False}
"""Dask settings of the workers a local cluster starts. The statistical profiler (on by
default) samples every task thread's stack every 10 ms and takes the GIL to do it; off, a
sweep ran 7–9 % faster (``benchmarks/sweep_scaling.py --dask-profiler``, docs/performance.md).
A remote cluster's workers read their own configuration: start them with
``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``."""


class DaskPool:
    """Tasks on a Dask cluster: ``local`` (a LocalCluster) or a scheduler address."""

    def __init__(
        self,
        address: str,
        workers: int,
        processes: bool = True,
        preload: tuple[str, ...] = ("sim.sweep.runner",),
        worker_config: dict[str, Any] | None = None,
    ) -> None:
        """``worker_config``: Dask settings for a local cluster's workers (default
        :data:`WORKER_CONFIG`; a benchmark passes ``{}`` to measure Dask's own defaults)."""
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise ConfigError(
                "--dask", (), "Dask is not installed: pip install 'corridor[dask]'"
            ) from None
        self._cluster: Any = None
        if address == "local":
            dask_config: Any = importlib.import_module("dask.config")
            with dask_config.set(WORKER_CONFIG if worker_config is None else worker_config):
                self._cluster = distributed.LocalCluster(
                    n_workers=max(1, workers),
                    threads_per_worker=1,
                    processes=processes,
                    protocol="tcp://",
                    host="127.0.0.1",  # loopback only: a local cluster is not a network service
                    dashboard_address=None,
                    # workers' own logs would print cancelled tasks' tracebacks after Ctrl-C;
                    # a failing run is recorded in the sweep, not logged
                    silence_logs=logging.CRITICAL,
                )
            self._client: Any = distributed.Client(self._cluster)
            where = f"Dask LocalCluster {self._cluster.scheduler_address}"
        else:
            try:
                self._client = distributed.Client(address, timeout="15s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConfigError(
                    "--dask", (), f"cannot reach a Dask scheduler at {address}: {exc}"
                ) from None
            where = f"Dask scheduler {address}"
        threads = sum(w["nthreads"] for w in self._client.scheduler_info()["workers"].values())
        self.workers = max(1, threads)
        self.description = f"{where}, {self.workers} worker thread(s)"
        # as the local pool's forkserver does: every worker imports the simulator now, all at
        # once, rather than inside its first task (which would bill the import to that task)
        for module in preload:
            try:
                self._client.run(importlib.import_module, module)
            except Exception as exc:
                self.close()
                raise ConfigError(
                    "--dask", (), f"the workers cannot import {module}: {type(exc).__name__}: {exc}"
                ) from None

    def map_unordered(
        self, fn: Callable[[Task], Result], tasks: Iterable[Task]
    ) -> Iterator[tuple[Task, Result | Lost]]:
        distributed: Any = importlib.import_module("distributed")
        source = iter(tasks)
        pending: dict[str, tuple[Task, int]] = {}
        futures = distributed.as_completed()

        def submit(task: Task, attempt: int = 0) -> None:
            future = self._client.submit(fn, task, pure=False)
            pending[future.key] = (task, attempt)
            futures.add(future)

        def submit_next() -> None:
            task = next(source, _END)
            if task is not _END:
                submit(task)

        for _ in range(2 * self.workers):
            submit_next()
        for future in futures:
            task, attempt = pending.pop(future.key)
            try:
                result = future.result()
            except Exception as exc:  # KilledWorker after repeated deaths, or a raise
                future.release()
                if type(exc).__name__ == "KilledWorker" and attempt == 0:
                    # a task queued on a dying worker is blamed with the one that killed it:
                    # give it one more chance before calling it lost
                    submit(task, attempt + 1)
                    continue
                yield task, Lost(f"{type(exc).__name__}: {exc}")
            else:
                future.release()
                yield task, result
            submit_next()

    def close(self) -> None:
        """Stop quietly: after Ctrl-C, Dask would log every cancelled task's traceback."""
        for name in ("distributed", "asyncio", "tornado"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        for attr in ("_client", "_cluster"):
            thing = getattr(self, attr)
            setattr(self, attr, None)
            if thing is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    thing.close()


def make_executor(workers: int, dask: str | None) -> Executor:
    """The local pool by default; Dask when ``--dask local|tcp://HOST:PORT`` is given."""
    if dask:
        return DaskPool(dask, workers)
    return LocalPool(workers)


class WorkFailed(RuntimeError):
    """A task of an ordered map (a replication) could not be completed: the run cannot go on."""


def _call_indexed(fn: Callable[[Task], Result], item: tuple[int, Task]) -> tuple[int, Result]:
    return item[0], fn(item[1])


def map_ordered(
    fn: Callable[[Task], Result],
    tasks: Sequence[Task],
    workers: int,
    executor: Executor | None = None,
) -> Iterator[Result]:
    """``fn`` over ``tasks``, results yielded in task order (like ``map``), as soon as each is
    ready and every earlier one has been yielded.

    Inline when ``workers`` <= 1 or there is one task (no process start-up for a single
    replication); otherwise on ``executor``, or on a :class:`LocalPool` of ``min(workers,
    len(tasks))`` processes that preloads ``fn``'s module, closed at the end. A task that is
    :class:`Lost` raises :class:`WorkFailed`: unlike a sweep point, a replication of a single
    run cannot be skipped. Tasks carry their own seeds, so results do not depend on ``workers``.
    """
    if executor is None and (workers <= 1 or len(tasks) <= 1):
        yield from map(fn, tasks)
        return
    pool = executor or LocalPool(min(workers, len(tasks)), preload=(fn.__module__,))
    waiting: dict[int, Result] = {}
    following = 0
    try:
        indexed = list(enumerate(tasks))
        for (index, _), result in pool.map_unordered(functools.partial(_call_indexed, fn), indexed):
            if isinstance(result, Lost):
                raise WorkFailed(f"task {index} failed: {result.reason}")
            waiting[index] = result[1]
            while following in waiting:
                yield waiting.pop(following)
                following += 1
    finally:
        if executor is None:
            pool.close()
