"""One shard of a run, as any executor's worker runs it: rebuild the run from plain data, check the canary, count, write.

`run_task(task)` takes and returns JSON-ready dicts (no pickled objects cross a
process boundary). `main()` is the local executor's worker process: one JSON task
per line on stdin, one JSON result per line on stdout, until stdin closes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from biasprobe.errors import UserError

_OUT = None  # the result stream (the original stdout) of a worker process
_CONTEXT: dict = {}  # run key -> (prior, domain, engine, condition, machine record): built once per process


def _context(task: dict):
    key = task["shard_key"]
    if key not in _CONTEXT:
        from biasprobe.domains import parse_domain
        from biasprobe.priors import make_prior
        from biasprobe.sampling import canary
        from biasprobe.sampling.engine import Engine
        from biasprobe.sampling.rundir import build_condition

        p = task["parameters"]
        prior = make_prior(p["prior"], **p["parameters"])
        domain = parse_domain(p["domain"])
        engine = Engine(prior, domain, int(p["seed"]), p["device"])
        mine = {"machine": canary.machine(), "canary": canary.canary(engine)}
        canary.check(task["reference"], mine, where="worker")
        _CONTEXT.clear()
        _CONTEXT[key] = (prior, domain, engine, build_condition(p["condition"]), mine)
    return _CONTEXT[key]


def run_task(task: dict, objects=None) -> dict:
    """Count one shard and write it into the run directory; returns its manifest record.

    `objects` (prior, domain, engine, condition, mine), when the caller already has them
    (the in-process executor), skips rebuilding the run from `task["parameters"]`.
    """
    from biasprobe.sampling import shardfile
    from biasprobe.sampling.blocks import sample_blocks

    prior, domain, engine, condition, mine = objects if objects is not None else _context(task)
    p, shard = task["parameters"], task["shard"]
    b0, b1 = shard["blocks"]
    t0 = time.perf_counter()
    counts = sample_blocks(prior, domain, int(p["seed"]), b0, b1, int(p["samples"]), workers=task.get("threads", 1),
                           device=p["device"], condition=condition, engine=engine)
    if counts.samples != shard["draws"]:  # the plan and the engine disagree: a bug, never a user error
        raise RuntimeError(f"shard {shard['name']} drew {counts.samples} draws, planned {shard['draws']}")
    record = {"blocks": [b0, b1], "draws": counts.samples, "nonfinite": counts.nonfinite,
              "rejected": counts.rejected, "distinct": counts.distinct, "shard_key": task["shard_key"],
              "machine": mine["machine"], "canary": mine["canary"], "wall_time": round(time.perf_counter() - t0, 3)}
    path = Path(task["run_dir"]) / "shards" / shard["name"]
    head = shardfile.write(path, counts.words, counts.counts, int(p["bucket_bits"]), record)
    record["rows"] = head["rows"]
    record["bytes"] = path.stat().st_size
    return record


def run_task_json(text: str) -> str:
    """`run_task` with every outcome encoded as JSON: {"ok": record} or {"error": line, "kind": user|os|bug}."""
    try:
        return json.dumps({"ok": run_task(json.loads(text))})
    except UserError as err:
        return json.dumps({"error": str(err), "kind": "user"})
    except OSError as err:
        return json.dumps({"error": f"{err.strerror or err} ({err.filename or 'shard file'})", "kind": "os",
                           "errno": err.errno})
    except Exception:  # noqa: BLE001 - a bug: the driver re-raises it with this traceback
        return json.dumps({"error": traceback.format_exc(), "kind": "bug"})


def reference_json(text: str) -> str:
    """The machine settings and canary of this worker for a run (the run's reference when it begins)."""
    from biasprobe.domains import parse_domain
    from biasprobe.priors import make_prior
    from biasprobe.sampling import canary
    from biasprobe.sampling.engine import Engine

    p = json.loads(text)
    engine = Engine(make_prior(p["prior"], **p["parameters"]), parse_domain(p["domain"]), int(p["seed"]), p["device"])
    return json.dumps({"machine": canary.machine(), "canary": canary.canary(engine)})


def _die_with_parent() -> None:
    """Linux: SIGTERM when the driver dies (even by kill -9), so no orphan keeps sampling."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux: stdin closing still stops us
        pass


def _terminate(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough; a second must not interrupt the cleanup
    raise SystemExit(128 + signum)  # unwinds, so a half-written shard's temporary file is removed


def main() -> int:
    global _OUT
    out = _OUT = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # library chatter must not corrupt the result stream
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, _terminate)
    _die_with_parent()
    import torch

    torch.set_num_threads(1)
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        if "measure_reference" in message:  # the run's reference settings and canary, measured here
            out.write(reference_json(json.dumps(message["measure_reference"])) + "\n")
        else:
            out.write(run_task_json(line) + "\n")
    return 0


def _exit_now(code: int) -> None:
    """Leave without the interpreter's C++ teardown: torch can abort there ("terminate called without an
    active exception") when a signal ends the process mid-shard. Everything that matters is already
    unwound (temporary files removed) and flushed."""
    for stream in (s for s in (_OUT, sys.stdout, sys.stderr) if s is not None):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    try:
        status = main()
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else 1
    except KeyboardInterrupt:  # pragma: no cover - SIGINT is ignored; only a direct kill -INT gets here
        status = 130
    except BaseException:  # noqa: BLE001 - a bug outside any shard: report it, then leave
        traceback.print_exc()
        status = 1
    _exit_now(status)
