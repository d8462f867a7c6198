"""Worker processes that build maps and heavy layers away from the server's interpreter.

A map build calls compiled code (shapely, numpy, scikit-learn, Folium rendering) that holds
the interpreter lock for up to ~140 ms at a time; in a thread of the server process every
other request waits for it. :class:`WorkerPool` runs those builds in a small
:class:`~concurrent.futures.ProcessPoolExecutor` instead (``forkserver`` start method, the
server's modules preloaded once), so the event loop and the light routes never wait for one.

What crosses the process boundary is small: a build is named by a
:class:`~geo_ssgp.api.service.Service` method and its arguments (filters, a user, a place),
and the answer is an HTML string or a GeoJSON object. Each worker opens the area pack and the
store itself from the :class:`~geo_ssgp.config.Settings` (one in-process ``Service`` per
worker, with its own caches), so no incident frame is ever pickled; every task carries the
store version the server saw, and a worker drops its caches when that version changes.

The server-side :class:`~geo_ssgp.api.service.Service` stays the one place for caching and
access policy: it decides what to build and keeps the results.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from geo_ssgp.config import Settings

if TYPE_CHECKING:
    from geo_ssgp.api.service import Service

#: Modules the fork server imports once, so a new or restarted worker starts warm.
PRELOAD = ["geo_ssgp.api.service"]

_worker: dict[str, Any] = {}


class WorkerPool:
    """A bounded pool of build processes that restarts itself when a worker dies.

    Parameters
    ----------
    settings : Settings
        Passed once to every worker, which opens the pack and the store from it.
    processes : int
        Worker processes (``settings.map_workers``).
    """

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
                self._executor = ProcessPoolExecutor(
                    self.processes,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(self.settings,),
                )
            return self._executor

    def submit(self, version: tuple[int, ...], build: str, *args: Any) -> Future:
        """Run ``Service.<build>(*args)`` in a worker, on the data of store ``version``.

        A pool whose worker died (killed, out of memory) is replaced first, so one lost
        worker costs the builds it had, never the service.

        Parameters
        ----------
        version : tuple of int
            The store version the caller's cache key holds.
        build : str
            Name of a :class:`~geo_ssgp.api.service.Service` method.
        *args
            Its arguments (picklable: filters, user, place, plain values).

        Returns
        -------
        concurrent.futures.Future
        """
        executor = self._current()
        try:
            future = executor.submit(_run, version, build, args)
        except BrokenProcessPool:
            self.restart(executor)
            executor = self._current()
            future = executor.submit(_run, version, build, args)

        def restart_if_broken(done: Future) -> None:
            if not done.cancelled() and isinstance(done.exception(), BrokenProcessPool):
                self.restart(executor)

        future.add_done_callback(restart_if_broken)
        return future

    def restart(self, broken: ProcessPoolExecutor | None = None) -> None:
        """Replace the pool (only if it is still ``broken``, when given): workers are killed."""
        with self._lock:
            if broken is not None and self._executor is not broken:
                return
            old, self._executor = self._executor, None
        if old is not None:
            _stop(old)

    def pids(self) -> list[int]:
        """Process ids of the running workers (for operators and tests)."""
        with self._lock:
            executor = self._executor
        return [] if executor is None else sorted(executor._processes or {})

    def close(self) -> None:
        """Stop the workers: queued builds are cancelled, running ones killed."""
        self.restart()


def _stop(executor: ProcessPoolExecutor) -> None:
    """Cancel queued builds and kill the workers (a running build cannot be interrupted)."""
    processes = list((executor._processes or {}).values())  # Python 3.14: kill_workers()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()


# In the worker process -----------------------------------------------------------------------


def _start_worker(settings: Settings) -> None:
    """Pool initializer: remember the settings; the service opens on the first build."""
    _worker["settings"] = settings


def _service() -> Service:
    """The in-process service of this worker (pack, store and caches of its own)."""
    if "service" not in _worker:
        from geo_ssgp.api.service import Service
        from geo_ssgp.pack import load_pack
        from geo_ssgp.store import open_store

        settings = _worker["settings"].model_copy(update={"map_workers": 0})
        pack = load_pack(settings)
        _worker["service"] = Service(settings, pack, open_store(settings, pack.name))
        _worker["version"] = None
    return _worker["service"]


def _run(version: tuple[int, ...], build: str, args: tuple) -> Any:
    """Build ``Service.<build>(*args)`` for store ``version`` (caches dropped when it moved)."""
    service = _service()
    if _worker["version"] != version:
        service.invalidate()
        _worker["version"] = version
    return getattr(service, build)(*args)
