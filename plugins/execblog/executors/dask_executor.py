"""The Dask executor: ``FENCES_EXECUTOR = "tcp://host:8786"`` runs sessions on a cluster.

Each session is one Dask task. On the worker it runs exactly as locally: the worker keeps a
local pool (a fork server of its own) and the session is a fresh child process under a
guardian, so a segfault or a timeout kills that child, not the Dask worker. Fences travel
with their content-relative path and the bytes of their declared ``inputs``; the worker
lays them out in a temporary folder and never sees the build machine's paths. Outputs and
figure payloads come back in the results; the host owns the cache. Sessions that need a GPU
(a backend whose candidate says ``gpu``: ``cupy``, ``torch``, ``jax``; or ``auto``, where the
cluster has GPU workers) ask for a ``GPU`` resource, so they land on workers started with
``--resources GPU=1``.

Needs the ``distributed`` package: ``pip install -e ".[cluster]"``. A ``tls://`` scheduler
takes its certificates from ``FENCES_DASK_SECURITY`` (``distributed.security.Security``'s
arguments) or Dask's own ``distributed.comm.tls`` configuration; without either it is one
located error, before anything connects.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from execblog.engine.hookspecs import Executor, hookimpl
from execblog.engine.manager import make_manager
from execblog.engine.model import CRASHED, FAILED, SKIPPED, Fence, FenceResult
from execblog.engine.settings import EngineSettings

from .session_loop import broken, interrupted

CLUSTER_EXTRA = 'pip install -e ".[cluster]"'
CONNECT_SECONDS = 10.0  # an unreachable scheduler is an error within this time
GPU_RESOURCE = "GPU"
TLS_SCHEMES = ("tls", "wss")  # addresses whose connections need a TLS context
SECURITY_EXAMPLE = ('FENCES_DASK_SECURITY = {"tls_ca_file": "ca.pem", "tls_client_cert": '
                    '"client.pem", "tls_client_key": "client.key"}')


class DaskExecutor:
    """Sessions as tasks on the Dask scheduler at ``address``."""

    name = "dask"

    def __init__(self, address: str, plugins: list[str], default_timeout: float,
                 settings: dict[str, Any] | None = None,
                 security: dict[str, Any] | None = None):
        self.address = address
        self.security = security  # FENCES_DASK_SECURITY: Security(**security)
        # what the workers get: never the client's certificates
        self.settings = {k: v for k, v in (settings or {}).items()
                         if k != "FENCES_DASK_SECURITY"}
        self.plugins = plugins
        self.default_timeout = default_timeout
        self._client: Any = None
        self._problem: str | None = None
        self._lock = threading.Lock()
        self._futures: set[Any] = set()
        self._reported = False  # the unreachable scheduler was reported on a fence
        self.cancelled = False

    # -- Executor ------------------------------------------------------------------------------
    def start(self) -> None:
        self._connect()

    def submit(self, fences: list[Fence]) -> Future[list[FenceResult]]:
        done: Future[list[FenceResult]] = Future()
        client = self._connect()
        if self.cancelled:
            done.set_result(interrupted(fences))
            return done
        if client is None:  # one located error for the build; later sessions are skipped
            status = SKIPPED if self._reported else FAILED
            self._reported = True
            done.set_result(_not_run(fences, status, self._problem or "no Dask client"))
            return done
        portable, inputs = _portable(fences)
        resources = {GPU_RESOURCE: 1} if self._needs_gpu(fences) else None
        task = client.submit(run_remote_session, portable, inputs, self.plugins,
                             self.default_timeout, self.settings, resources=resources,
                             retries=1, pure=False)
        self._futures.add(task)
        task.add_done_callback(lambda finished: self._settle(finished, fences, done))
        return done

    def probe(self) -> tuple[dict[str, Any] | None, list[str]]:
        client = self._connect()
        if client is None:
            return None, [self._problem or "no Dask client"]
        resources = {GPU_RESOURCE: 1} if self._gpu_workers() else None
        return client.submit(remote_probe, self.plugins, self.settings, resources=resources,
                             pure=False).result()

    def cancel(self) -> None:
        """Drop what is queued; sessions already running on a worker finish there, and
        their results are ignored (Dask cannot stop a running task)."""
        self.cancelled = True
        if self._client is not None:
            threading.Thread(target=self._cancel_all, daemon=True).start()

    def shutdown(self) -> None:
        """Close the client (the engine has collected every session's results by now)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- helpers ---------------------------------------------------------------------------
    def _connect(self) -> Any:
        with self._lock:
            if self._client is None and self._problem is None:
                self._client, self._problem = _client(self.address, self.security)
            return self._client

    def _cancel_all(self) -> None:
        try:
            self._client.cancel(list(self._futures), force=True)
        except Exception:  # noqa: BLE001 - best effort while the build stops
            pass

    def _gpu_workers(self) -> bool:
        workers = self._client.scheduler_info().get("workers", {})
        return any(GPU_RESOURCE in (w.get("resources") or {}) for w in workers.values())

    def _needs_gpu(self, fences: list[Fence]) -> bool:
        if any(self._gpu_kinds().get(f.kind) for f in fences):
            return self._gpu_workers()  # none: it runs anywhere and says what is missing
        asked = {getattr(f.options, "backend", None) or "auto" for f in fences
                 if self._uses_backend().get(f.kind)}
        gpu = {c.name for cands in make_manager(self.plugins).hook.fences_backend_candidates()
               for c in cands if c.gpu}
        if asked & gpu:  # a framework that computes on a GPU where there is one
            return self._gpu_workers()
        return "auto" in asked and self._gpu_workers()

    def _uses_backend(self) -> dict[str, bool]:
        pm = make_manager(self.plugins)
        return {k.name: k.uses_backend for kinds in pm.hook.fences_kinds() for k in kinds}

    def _gpu_kinds(self) -> dict[str, bool]:
        """Kinds whose fences run only on a GPU (``FenceKind.needs_gpu``: cuda)."""
        pm = make_manager(self.plugins)
        return {k.name: k.needs_gpu for kinds in pm.hook.fences_kinds() for k in kinds}

    def _settle(self, task: Any, fences: list[Fence], done: Future[list[FenceResult]]) -> None:
        self._futures.discard(task)
        if self.cancelled:
            done.set_result(interrupted(fences))
            return
        try:
            results, where = task.result()
        except BaseException as exc:  # noqa: BLE001 - a lost worker, a cancelled task...
            why = f"the Dask task running this session failed ({type(exc).__name__}: {exc})"
            done.set_result(_not_run(fences, CRASHED, why))
            return
        for result in results:
            result.ran_on = {**where, "device": (result.backend or {}).get("device")}
        done.set_result(results)


def _client(address: str, security: dict[str, Any] | None = None) -> tuple[Any, str | None]:
    """A client of the scheduler at ``address``, or why there is none (one sentence)."""
    try:
        from distributed import Client
    except ImportError:
        return None, (f"FENCES_EXECUTOR = {address!r} needs the Dask executor's "
                      f"distributed package: {CLUSTER_EXTRA}")
    checked, problem = _security(address, security)
    if problem is not None:
        return None, problem
    try:
        return Client(address, timeout=CONNECT_SECONDS, set_as_default=False,
                      security=checked), None
    except (OSError, TimeoutError) as exc:
        return None, (f"cannot reach the Dask scheduler at {address} within "
                      f"{CONNECT_SECONDS:g} s ({exc}); no fence ran")
    except Exception as exc:  # noqa: BLE001 - any other refusal is one located error too
        return None, (f"cannot connect to the Dask scheduler at {address} "
                      f"({type(exc).__name__}: {exc}); no fence ran")


def _security(address: str, options: dict[str, Any] | None) -> tuple[Any, str | None]:
    """The ``distributed.security.Security`` for ``address``, checked before anything
    connects: a TLS address without a TLS context (no certificates given) would fail deep
    inside Dask, after a wait, with a traceback; an address without TLS where encryption
    is required likewise. Returns (security, None) or (None, why)."""
    import ssl

    from distributed.security import Security

    scheme = address.partition("://")[0].lower()
    given = dict(options or {})
    for key in ("tls_min_version", "tls_max_version"):  # JSON has numbers: 1.2, 1.3
        if key in given and given[key] is not None:
            given[key] = {1.2: ssl.TLSVersion.TLSv1_2, 1.3: ssl.TLSVersion.TLSv1_3}.get(
                given[key], given[key])
    for key in ("tls_ca_file", "tls_client_cert", "tls_client_key"):
        value = given.get(key)
        if isinstance(value, str) and "\n" not in value and not os.path.isfile(value):
            return None, (f"FENCES_DASK_SECURITY: {key} {value!r} is not a file; "
                          "no fence ran")
    try:
        security = Security(**given)
        context = security.get_connection_args("client")["ssl_context"]
    except (TypeError, ValueError, OSError, ssl.SSLError) as exc:
        return None, (f"FENCES_DASK_SECURITY cannot be used ({type(exc).__name__}: {exc}); "
                      "no fence ran")
    if scheme in TLS_SCHEMES and context is None:
        return None, (f"FENCES_EXECUTOR = {address!r} is a TLS address, but no TLS "
                      f"certificates were given: set {SECURITY_EXAMPLE} (or Dask's "
                      "distributed.comm.tls configuration); no fence ran")
    if scheme not in TLS_SCHEMES and security.require_encryption:
        return None, (f"FENCES_EXECUTOR = {address!r} is not a TLS address, but encryption "
                      "is required (FENCES_DASK_SECURITY or Dask's configuration): use "
                      "tls://; no fence ran")
    return security, None


def _not_run(fences: list[Fence], status: str, why: str) -> list[FenceResult]:
    first = broken(status, why if status != SKIPPED else f"not run: {why}")
    return [first] + [broken(SKIPPED, f"not run: {why}") for _ in fences[1:]]


def _portable(fences: list[Fence]) -> tuple[list[Fence], dict[str, bytes]]:
    """The fences without host paths, and the bytes of their declared inputs."""
    inputs: dict[str, bytes] = {}
    for fence in fences:
        folder = os.path.dirname(fence.path)
        for rel in fence.options.inputs or ():
            try:
                inputs[rel] = Path(folder, rel).read_bytes()
            except OSError:
                pass  # the plan already reported it
    return [dataclasses.replace(f, path="") for f in fences], inputs


def _lay_out(fences: list[Fence], inputs: dict[str, bytes], root: str) -> list[Fence]:
    """Give the fences a post path under ``root`` and write their inputs next to it."""
    post = os.path.join(root, "content", *fences[0].source.split("/"))
    folder = os.path.dirname(post)
    os.makedirs(folder, exist_ok=True)
    for rel, data in inputs.items():
        target = os.path.normpath(os.path.join(folder, rel))
        if os.path.commonpath([target, root]) != root:
            continue  # an input outside the content folder cannot be laid out remotely
        os.makedirs(os.path.dirname(target), exist_ok=True)
        Path(target).write_bytes(data)
    return [dataclasses.replace(f, path=post) for f in fences]


_pools: dict[tuple[str, ...], Any] = {}


def _worker_pool(plugins: list[str], default_timeout: float,
                 settings: dict[str, Any]) -> Any:
    """This worker's local pool (started once): sessions fork from its own fork server."""
    from .local.pool import SessionPool

    # Dask starts workers as daemonic processes, which multiprocessing forbids to have
    # children; each session's guardian, not that flag, makes sure sessions end with us.
    multiprocessing.current_process().daemon = False
    key = (tuple(plugins), default_timeout, json.dumps(settings, sort_keys=True))
    if key not in _pools:
        from distributed import get_worker

        threads = getattr(get_worker(), "nthreads", 1) or 1
        _pools[key] = SessionPool(threads, plugins, default_timeout, settings)
    return _pools[key]


def run_remote_session(fences: list[Fence], inputs: dict[str, bytes], plugins: list[str],
                       default_timeout: float, settings: dict[str, Any],
                       ) -> tuple[list[FenceResult], dict[str, Any]]:
    """The Dask task: run one session on this worker, exactly as the local executor does."""
    from distributed import get_worker

    pool = _worker_pool(plugins, default_timeout, settings)
    with tempfile.TemporaryDirectory(prefix="fences-remote-") as root:
        results = pool.submit(_lay_out(fences, inputs, root)).result()
    return results, {"executor": "dask", "worker": get_worker().address}


def remote_probe(plugins: list[str], settings: dict[str, Any],
                 ) -> tuple[dict[str, Any] | None, list[str]]:
    return _worker_pool(plugins, 60.0, settings).probe()


@hookimpl(trylast=True)  # a third-party executor for a scheduler address answers first
def fences_executor(settings: dict[str, Any], engine: EngineSettings) -> Executor | None:
    if "://" not in engine.executor:
        return None
    return DaskExecutor(engine.executor, list(engine.plugins), engine.timeout, settings,
                        security=engine.dask_security)
