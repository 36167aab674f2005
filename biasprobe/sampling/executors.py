"""Where shards run: in this process, in local worker processes (the default), or on a Dask cluster.

Every executor runs `worker.run_task` on JSON tasks and hands each finished
shard's record to the driver as soon as it arrives; the driver keeps the manifest.
The local executor starts one worker process per core (`python -P -m
biasprobe.sampling.worker`: the working directory is not on its path), replaces a
worker that dies and gives its shard to the next one, so a crashed or killed worker
costs only its own shard. Dask (`pip install 'biasprobe[distributed]'`) retries a
lost worker's shards on the others.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections import deque

from biasprobe.errors import UserError

MAX_ATTEMPTS = 3  # a shard that kills its worker this many times is reported, not retried forever


class ShardFailed(Exception):
    """A worker's error for one shard; `kind` is user (one line), os (a file error) or bug (a traceback)."""

    def __init__(self, shard: str, message: str, kind: str):
        super().__init__(message)
        self.shard, self.kind = shard, kind


def _decode(task: dict, text: str) -> dict:
    result = json.loads(text)
    if "ok" in result:
        return result["ok"]
    raise ShardFailed(task["shard"]["name"], result["error"], result["kind"])


class InlineExecutor:
    """Shards one after another in this process, each with `workers` threads (small runs, tests, debugging)."""

    name = "inline"

    def __init__(self, workers: int, objects):
        self.workers, self.objects = workers, objects
        self.restarts = 0

    def reference(self, parameters: dict) -> dict:
        from biasprobe.sampling import canary

        return {"machine": canary.machine(), "canary": canary.canary(self.objects[2])}

    def run(self, tasks, on_result) -> None:
        from biasprobe.sampling import worker

        for task in tasks:
            try:
                record = worker.run_task(dict(task, threads=self.workers), objects=self.objects)
            except OSError as err:
                raise ShardFailed(task["shard"]["name"], f"{err.strerror or err} ({err.filename or 'shard'})",
                                  "os") from None
            on_result(task, record)

    def close(self) -> None:
        pass


class _Worker:
    def __init__(self, env: dict):
        self.proc = subprocess.Popen([sys.executable, "-P", "-m", "biasprobe.sampling.worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, start_new_session=True)
        self.task = None

    def send(self, task: dict) -> None:
        self.task = task
        self.proc.stdin.write((json.dumps(task) + "\n").encode())
        self.proc.stdin.flush()

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


class LocalExecutor:
    """`workers` worker processes on this machine; a dead worker is replaced and its shard redone."""

    name = "local"

    def __init__(self, workers: int, objects=None, env: dict | None = None):
        self.workers, self.objects = workers, objects
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault("OMP_NUM_THREADS", "1")
        self.restarts = 0
        self._pool: list[_Worker] = []
        self._sel = selectors.DefaultSelector()

    def start(self, count: int) -> None:
        """Start up to `count` workers at once (their imports overlap instead of queueing behind each other)."""
        while len(self._pool) < min(count, self.workers):
            w = _Worker(self.env)
            self._pool.append(w)
            self._sel.register(w.proc.stdout, selectors.EVENT_READ, w)

    def reference(self, parameters: dict) -> dict:
        # Measured in a worker process, not here: the workers are the ones that sample.
        self.start(self.workers)
        w = self._idle()
        w.proc.stdin.write((json.dumps({"measure_reference": parameters}) + "\n").encode())
        w.proc.stdin.flush()
        line = w.proc.stdout.readline()
        if not line:
            raise RuntimeError("a worker process died before reporting its settings (see its error above)")
        return json.loads(line)

    def run(self, tasks, on_result) -> None:
        pending = deque(tasks)
        attempts: dict[str, int] = {}
        self.start(len(pending))
        while pending or any(w.task is not None for w in self._pool):
            while pending and (idle := self._idle()) is not None:
                idle.send(pending.popleft())
            for key, _ in self._sel.select(timeout=1.0):
                w = key.data
                line = w.proc.stdout.readline()
                task, w.task = w.task, None
                if line and task is not None:
                    on_result(task, _decode(task, line.decode()))
                    continue
                # The worker died (mid-shard, or idle): replace it; its shard goes to the next idle worker.
                code = w.proc.wait()
                self._drop(w)
                if task is None:
                    continue
                self.restarts += 1
                name = task["shard"]["name"]
                attempts[name] = attempts.get(name, 0) + 1
                if attempts[name] >= MAX_ATTEMPTS:
                    why = "killed by a signal (out of memory?)" if code < 0 else f"exit code {code}, see above"
                    raise ShardFailed(name, f"shard {name} ended its worker process {MAX_ATTEMPTS} times"
                                      f" (last: {why})", "user")
                pending.appendleft(task)

    def _idle(self):
        for w in self._pool:
            if w.task is None:
                return w
        if len(self._pool) < self.workers:
            w = _Worker(self.env)
            self._pool.append(w)
            self._sel.register(w.proc.stdout, selectors.EVENT_READ, w)
            return w
        return None

    def _drop(self, w: _Worker) -> None:
        self._sel.unregister(w.proc.stdout)
        w.stop()
        self._pool.remove(w)

    def close(self) -> None:
        for w in list(self._pool):
            self._drop(w)
        self._sel.close()

    def pids(self) -> list[int]:
        return [w.proc.pid for w in self._pool]


class DaskExecutor:
    """Shards as tasks on a Dask distributed cluster (`scheduler` address) or on a LocalCluster of `workers`."""

    name = "dask"

    def __init__(self, workers: int, scheduler: str | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UserError("the dask executors need the optional extra: pip install 'biasprobe[distributed]'") from None
        self.restarts = 0
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=30)
            except (OSError, TimeoutError) as err:
                raise UserError(f"cannot reach the Dask scheduler {scheduler!r}: {err}") from None
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, env={"OMP_NUM_THREADS": "1"})
            self.client = Client(self.cluster)

    def reference(self, parameters: dict) -> dict:
        from biasprobe.sampling.worker import reference_json

        return json.loads(self.client.submit(reference_json, json.dumps(parameters), pure=False).result())

    def run(self, tasks, on_result) -> None:
        from distributed import as_completed

        from biasprobe.sampling.worker import run_task_json

        by_key, attempts = {}, {}

        def submit(task):
            fut = self.client.submit(run_task_json, json.dumps(task), pure=False,
                                     key=f"biasprobe-shard-{task['shard']['name']}-{time.monotonic_ns()}")
            by_key[fut.key] = task
            return fut

        queue = as_completed([submit(t) for t in tasks])
        for fut in queue:
            task = by_key.pop(fut.key)
            name = task["shard"]["name"]
            try:
                text = fut.result()
            except Exception as err:  # noqa: BLE001 - KilledWorker, lost connections: retry elsewhere
                attempts[name] = attempts.get(name, 0) + 1
                self.restarts += 1
                if attempts[name] >= MAX_ATTEMPTS:
                    raise ShardFailed(name, f"shard {name} failed {MAX_ATTEMPTS} times on the cluster: {err}",
                                      "user") from None
                queue.add(submit(task))
                continue
            on_result(task, _decode(task, text))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(kind: str, workers: int, objects, scheduler: str | None = None):
    if kind == "local":
        return LocalExecutor(workers, objects)
    if kind == "inline":
        return InlineExecutor(workers, objects)
    if kind in ("dask", "dask-local"):
        if kind == "dask" and not scheduler:
            raise UserError("--executor dask needs --scheduler tcp://HOST:PORT (or use --executor dask-local)")
        return DaskExecutor(workers, scheduler if kind == "dask" else None)
    raise UserError(f"unknown executor {kind!r}; valid: local, inline, dask, dask-local")
