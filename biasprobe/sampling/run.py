"""`sample_run`: a sampling run in a run directory, sharded, resumable and merged out of core.

The driver plans the shards, keeps the manifest and merges; executors run the
shards. Re-running the same call resumes: shards already on disk are verified (a
truncated or corrupt file, or a manifest entry without its file, is redone) and
only the missing ones run. The final table equals `sample_counts` with the same
arguments bit for bit (`summary.json`'s checksum is `Counts.checksum()`).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from biasprobe import runtime
from biasprobe.errors import UserError
from biasprobe.sampling import shardfile
from biasprobe.sampling.engine import Engine, check_run, resolve_device
from biasprobe.sampling.rundir import (
    DEFAULT_BUCKET_BITS,
    DEFAULT_SHARD_DRAWS,
    LEVELS,
    SUMMARY,
    TABLE,
    RunDirectory,
    RunParameters,
    code_fingerprint,
    condition_spec,
    describe_difference,
    write_json_atomic,
)
from biasprobe.tableio import atomic_file

EXECUTORS = ("local", "inline", "dask", "dask-local")


@dataclass(frozen=True)
class RunResult:
    """What one `sample_run` call did, and the finished run's summary (None if it stopped before merging)."""

    path: Path
    shards: int
    found: int  # shards already complete on disk when this call began
    reused: int  # shards taken from `reuse`
    ran: int  # shards this call sampled
    redone: list = field(default_factory=list)  # shards found damaged or missing and sampled again
    worker_restarts: int = 0
    wall_time: float = 0.0
    summary: dict | None = None


def _prior_spec(prior) -> tuple[str, dict]:
    """The registered name and parameters that rebuild `prior` in another process."""
    from biasprobe.priors import make_prior

    name = getattr(prior, "name", "")
    try:
        params = prior.params()
        rebuilt = make_prior(name, **params)
    except (UserError, AttributeError, TypeError):
        rebuilt, params = None, None
    if rebuilt != prior:
        raise UserError(f"prior {type(prior).__name__} cannot go in a run directory: it must be a registered prior"
                        " that make_prior(name, **prior.params()) rebuilds")
    return name, params


def _shard_blocks(shard_size, block: int) -> int | None:
    if shard_size is None:
        return None
    if isinstance(shard_size, bool) or not isinstance(shard_size, (int, np.integer)) or shard_size < 1:
        raise UserError(f"shard size must be a positive number of draws, got {shard_size!r}")
    return max(1, -(-int(shard_size) // block))


def _check_executor(executor: str, scheduler) -> None:
    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    if executor == "dask" and not scheduler:
        raise UserError("--executor dask needs --scheduler tcp://HOST:PORT (or use --executor dask-local)")
    if scheduler and executor != "dask":
        raise UserError(f"--scheduler is for --executor dask, not {executor}")


def sample_run(prior, domain, samples: int, seed: int = 0, run_dir=None, *, executor: str = "local",
               workers=None, scheduler: str | None = None, shard_size=None, max_memory=None, device="cpu",
               condition=None, reuse=None, progress: bool = False, merge: bool = True, log=None) -> RunResult:
    """Draw `samples` functions into the run directory `run_dir`: shard, resume, merge; see the module docstring.

    executor: "local" (worker processes, default), "inline" (this process), "dask" (with
    `scheduler`, e.g. tcp://host:8786) or "dask-local". shard_size: draws per shard (rounded
    up to whole seeding blocks; default about 2^20). max_memory: the merge's cap in bytes
    (default a quarter of RAM). reuse: another run directory of the same prior, domain, seed
    and code whose complete shards this run may take (a shorter run, typically).
    """
    from biasprobe.sampling.executors import ShardFailed, make_executor
    from biasprobe.sampling.merge import default_max_memory

    t0 = time.perf_counter()
    if run_dir is None:
        raise UserError("sample_run needs a run directory")
    samples = check_run(samples, seed)
    _check_executor(executor, scheduler)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, (int, np.integer))
                                or workers < 1):
        raise UserError(f"workers must be a positive integer, got {workers!r}")
    workers = runtime.cores() if workers is None else int(workers)
    max_memory = default_max_memory() if max_memory is None else int(max_memory)
    device = resolve_device(device)
    name, params = _prior_spec(prior)
    cond = condition_spec(condition)
    engine = Engine(prior, domain, int(seed), device)
    say = log if log is not None else (lambda msg: print(msg, file=sys.stderr))

    rd = RunDirectory(run_dir)
    rd.prepare()  # before any sampling: a bad or read-only directory is one line, exit 2
    try:
        manifest = rd.read_manifest()
        blocks = _shard_blocks(shard_size, engine.block)
        if manifest is not None:
            old = manifest["parameters"]
            blocks = blocks or old.get("shard_blocks")
        run = RunParameters(prior=name, parameters=params, domain=str(domain), seed=int(seed), samples=samples,
                            device=device, condition=cond, code=code_fingerprint(), block=engine.block,
                            shard_blocks=blocks or max(1, DEFAULT_SHARD_DRAWS // engine.block),
                            bucket_bits=manifest["parameters"].get("bucket_bits", DEFAULT_BUCKET_BITS)
                            if manifest else DEFAULT_BUCKET_BITS)
        if manifest is not None and manifest["parameters"] != run.to_json():
            raise UserError(f"run directory {str(rd.path)!r} holds another run ("
                            f"{describe_difference(manifest['parameters'], run.to_json())}); use a new --run-dir")
        rd.clean_temporaries()
        objects = None
        ex = make_executor(executor, workers, None, scheduler)
        try:
            if executor == "inline":
                from biasprobe.sampling import canary

                mine = {"machine": canary.machine(), "canary": canary.canary(engine)}
                ex.objects = objects = (prior, domain, engine, condition, mine)
            if manifest is None:
                reference = ex.reference(run.to_json())
                manifest = {"format": 1, "parameters": run.to_json(), "reference": reference, "shards": {},
                            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
                rd.write_manifest(manifest)
            if objects is not None:
                from biasprobe.sampling import canary

                canary.check(manifest["reference"], objects[4], where="this process")
            plan = run.plan()
            done, redone = _scan(rd, run, manifest, plan, say)
            found = len(done)
            reused = _reuse(rd, run, manifest, plan, done, reuse, say) if reuse is not None else 0
            rd.write_manifest(manifest)
            todo = [s for s in plan if s["name"] not in done]
            if found or reused:
                say(f"{rd.path}: {found + reused} of {len(plan)} shards already done"
                    + (f" ({reused} reused from {reuse})" if reused else "") + f"; running {len(todo)}")
            _execute(ex, rd, run, manifest, todo, done, progress, samples)
        except ShardFailed as err:
            raise _shard_error(err, rd) from None
        except OSError as err:  # the manifest or a reused shard could not be written
            raise UserError(f"cannot write in run directory {str(rd.path)!r}: {err.strerror or err}; the finished"
                            " shards are kept, re-run the same command when it is fixed") from None
        finally:
            restarts = ex.restarts
            ex.close()
        summary = None
        if merge:
            try:
                summary = _merge(rd, run, manifest, plan, max_memory, say)
            except OSError as err:
                raise UserError(f"cannot write the merged table in {str(rd.path)!r}: {err.strerror or err}; every"
                                " shard is kept, re-run the same command when it is fixed") from None
        return RunResult(path=rd.path, shards=len(plan), found=found, reused=reused, ran=len(todo), redone=redone,
                         worker_restarts=restarts, wall_time=time.perf_counter() - t0, summary=summary)
    finally:
        rd.clean_temporaries()
        rd.unlock()


def _shard_error(err, rd: RunDirectory) -> Exception:
    if err.kind == "bug":
        return RuntimeError(f"shard {err.shard} failed:\n{err}")
    if err.kind == "os":
        return UserError(f"cannot write shard {err.shard} in {str(rd.path)!r}: {err}; the finished shards are kept,"
                         " re-run the same command when it is fixed")
    return UserError(str(err))


def _scan(rd: RunDirectory, run: RunParameters, manifest: dict, plan: list[dict], say) -> tuple[dict, list]:
    """The planned shards complete on disk {name: header}; damaged or missing ones are dropped from the manifest."""
    key = run.shard_key()
    done, redone = {}, []
    planned = {s["name"] for s in plan}
    for name in list(manifest["shards"]):
        if name not in planned:
            del manifest["shards"][name]
    for s in plan:
        path = rd.shard_path(s["name"])
        listed = s["name"] in manifest["shards"]
        if not path.exists():
            if listed:
                say(f"{rd.path}: shard {s['name']} is in the manifest but its file is missing; redoing it")
                del manifest["shards"][s["name"]]
                redone.append(s["name"])
            continue
        try:
            head = shardfile.verify(path)
            if head.get("shard_key") != key or head.get("blocks") != s["blocks"] or head.get("draws") != s["draws"]:
                raise shardfile.CorruptShard(f"{s['name']}: made by another run")
        except shardfile.CorruptShard as err:
            say(f"{rd.path}: {err}; redoing it")
            path.unlink(missing_ok=True)
            manifest["shards"].pop(s["name"], None)
            redone.append(s["name"])
            continue
        done[s["name"]] = head
        if not listed:  # written by a worker whose driver died before recording it: verified, so adopted
            manifest["shards"][s["name"]] = _record(head, path)
    return done, redone


def _record(head: dict, path: Path) -> dict:
    keep = ("blocks", "draws", "nonfinite", "rejected", "distinct", "rows", "machine", "canary", "wall_time")
    return {k: head.get(k) for k in keep} | {"bytes": path.stat().st_size}


def _reuse(rd: RunDirectory, run: RunParameters, manifest: dict, plan, done: dict, reuse, say) -> int:
    """Link (or copy) complete shards of another run directory of the same run but another length."""
    other = RunDirectory(reuse)
    theirs = other.read_manifest() if other.path.is_dir() else None
    if theirs is None:
        raise UserError(f"--reuse {str(reuse)!r} is not a run directory")
    mine = run.to_json()
    if any(theirs["parameters"].get(k) != v for k, v in mine.items() if k != "samples"):
        ours = {k: v for k, v in mine.items() if k != "samples"}
        raise UserError(f"--reuse {str(reuse)!r} holds another run ("
                        f"{describe_difference(theirs['parameters'] | {'samples': None}, ours | {'samples': None})})")
    count = 0
    for s in plan:
        if s["name"] in done:
            continue
        src = other.shard_path(s["name"])
        if not src.exists():
            continue
        try:
            head = shardfile.verify(src)
        except shardfile.CorruptShard:
            continue
        if head.get("shard_key") != run.shard_key():
            continue
        dst = rd.shard_path(s["name"])
        tmp = dst.with_name(f".{dst.name}.tmp-reuse-{os.getpid()}")
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
        done[s["name"]] = head
        manifest["shards"][s["name"]] = _record(head, dst)
        count += 1
    return count


def _execute(ex, rd: RunDirectory, run: RunParameters, manifest: dict, todo: list, done: dict, progress: bool,
             samples: int) -> None:
    if not todo:
        return
    from tqdm import tqdm

    params, key = run.to_json(), run.shard_key()
    tasks = [{"run_dir": str(rd.path.resolve()), "parameters": params, "shard_key": key,
              "reference": manifest["reference"], "shard": s} for s in todo]
    plan = run.plan()
    initial = sum(s["draws"] for s in plan if s["name"] in done)
    bar = tqdm(total=samples, initial=initial, disable=not progress, unit="fn", unit_scale=True, smoothing=0.05,
               desc="shards", dynamic_ncols=True)

    def on_result(task, record):
        name = task["shard"]["name"]
        manifest["shards"][name] = record
        done[name] = record
        rd.write_manifest(manifest)
        bar.update(record["draws"])
        bar.set_postfix_str(f"{len(done)}/{len(plan)} shards", refresh=False)

    try:
        ex.run(tasks, on_result)
    finally:
        bar.close()


def _merge(rd: RunDirectory, run: RunParameters, manifest: dict, plan: list, max_memory: int, say) -> dict:
    """Merge every shard into table/ and write levels.csv and summary.json (last); reuse a merge already done."""
    from biasprobe.sampling.merge import merge_shards

    summary_path = rd.path / SUMMARY
    if summary_path.exists():
        from biasprobe.sampling.reader import read_summary

        try:
            summary = read_summary(rd.path)
            if summary.get("parameters") == run.to_json() and summary.get("shards") == len(plan):
                return summary
        except UserError:
            pass
        summary_path.unlink(missing_ok=True)
    shards = []
    for s in plan:
        path = rd.shard_path(s["name"])
        shards.append((path, shardfile.read_header(path)))
    tmp = rd.path / f".table-tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        table = merge_shards(shards, tmp, parse_bits(run.domain), max_memory, log=say, threads=runtime.cores())
    except shardfile.CorruptShard as err:
        shutil.rmtree(tmp, ignore_errors=True)
        name = str(err).split(":")[0]
        rd.shard_path(name).unlink(missing_ok=True)
        manifest["shards"].pop(name, None)
        rd.write_manifest(manifest)
        raise UserError(f"{err} while merging; it was removed: re-run the same command to redo it") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    records = [manifest["shards"][s["name"]] for s in plan]
    nonfinite = sum(r["nonfinite"] for r in records)
    rejected = sum(r["rejected"] for r in records)
    counted = int(sum(int(c) * int(f) for c, f in table["levels"]))
    if counted + nonfinite + rejected != run.samples:  # every draw is counted once: a bug if not
        raise RuntimeError(f"merge lost draws: {counted} counted + {nonfinite} non-finite + {rejected} rejected"
                           f" != {run.samples} samples")
    old = rd.path / TABLE
    if old.exists():
        shutil.rmtree(old)
    os.replace(tmp, old)
    with atomic_file(rd.path / LEVELS) as fh:
        fh.write("count,functions\n" + "".join(f"{c},{f}\n" for c, f in table["levels"]))
    summary = {"format": 1, "parameters": run.to_json(), "shards": len(plan), "samples": run.samples,
               "nonfinite": nonfinite, "rejected": rejected, "counted": counted, "distinct": table["distinct"],
               "checksum": table["checksum"], "parts": table["parts"], "row_group_rows": table["row_group_rows"],
               "part_rows": table["part_rows"], "merge": table["merge"],
               "sampling_wall_time_s": round(sum(r.get("wall_time") or 0 for r in records), 3)}
    write_json_atomic(summary_path, summary)
    say(f"{rd.path}: merged {len(plan)} shards into {len(table['parts'])} part(s): {table['distinct']} distinct"
        f" functions in {table['merge']['wall_time_s']:.1f} s")
    return summary


def merge_run(run_dir, max_memory=None, log=None) -> dict:
    """Merge a run directory whose shards are all done (its summary); imports no torch (a merge-only process).

    `sample_run` merges by itself; this is for merging elsewhere, or again under another cap.
    """
    from biasprobe.sampling.merge import default_max_memory

    say = log if log is not None else (lambda msg: print(msg, file=sys.stderr))
    rd = RunDirectory(run_dir)
    if not rd.path.is_dir():
        raise UserError(f"{str(rd.path)!r} is not a run directory")
    rd.lock()
    try:
        manifest = rd.read_manifest()
        if manifest is None:
            raise UserError(f"{str(rd.path)!r} is not a run directory (no manifest.json)")
        run = RunParameters(**manifest["parameters"])
        plan = run.plan()
        missing = [s["name"] for s in plan if s["name"] not in manifest["shards"]
                   or not rd.shard_path(s["name"]).exists()]
        if missing:
            raise UserError(f"{str(rd.path)!r} has {len(missing)} of {len(plan)} shards still to sample; re-run"
                            " its `biasprobe sample ... --run-dir` command first")
        (rd.path / SUMMARY).unlink(missing_ok=True)
        return _merge(rd, run, manifest, plan, default_max_memory() if max_memory is None else int(max_memory), say)
    finally:
        rd.clean_temporaries()
        rd.unlock()


def parse_bits(domain_spec: str) -> int:
    from biasprobe.domains import parse_domain

    return parse_domain(domain_spec).n_points
