"""Side-by-side benchmark: every arrears engine, zen-engine, rule-engine and hand-written Polars.

All engines run on the same generated snapshot (benchmarks/generate.py) and the same
policies (benchmarks/policy.yaml, the sparse one; benchmarks/policy-heavy.yaml, about four
actions per invoice), from one command. Each engine runs in its own child
process, so that its peak memory (maxrss) is its own; `--in-process` runs them all in this
one process instead (the same timings; peak memory then only grows). The parent prints
throughput, peak memory, ratios and the targets of issue 4.

- batch: `make_plan_batch` from the Parquet folder to a Parquet plan, snapshot digest
  included; batch-no-digest: the same without the digest (which reads every row).
- handwritten: each policy hand-written as one Polars query (benchmarks/peers), the
  practical floor, run first; every engine's action rows are checked equal to it (to the
  batch engine's when the run leaves the floor out).
- duckdb: `make_plan_duckdb` (`--memory-limit`, e.g. 4GB) to a Parquet plan; spark: a
  local[2] session started (its start-up time reported apart), `make_plan_spark`, the
  Parquet plan.
- row: the per-invoice engine (`bind` + `make_plan`) on the first customers' invoices
  (--sample); microseconds per invoice of `make_plan`, and of `bind`.
- zen, rule-engine: the policy's ladder, one invoice per call, on --sample invoices;
  answers checked against the ladder computed in Polars.
- compile: `load_policy` of a 200-rule policy, and the batch engine's compilation of it.

Usage: python benchmarks/run.py [--data DIR] [--invoices N --customers C --history H]
       [--sample 20000] [--repeat 2] [--engines handwritten,batch,duckdb,spark,...]
       [--policies sparse,heavy] [--memory-limit 4GB] [--profile-row] [--in-process]
       python benchmarks/run.py --large      # 10M invoices through DuckDB under a 4 GB limit
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arrears.engine.batch import FramePlan

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POLICY = ROOT / "benchmarks" / "policy.yaml"
POLICIES = {"sparse": POLICY, "heavy": ROOT / "benchmarks" / "policy-heavy.yaml"}
AS_OF = dt.date(2026, 11, 23)
ENGINES = ("handwritten", "batch", "batch-no-digest", "duckdb", "spark", "row", "zen", "rule-engine", "compile")
# Engines that plan the whole policy: run once per policy, their plans checked against the floor.
PLANNERS = ("handwritten", "batch", "batch-no-digest", "duckdb", "spark")
SPARK_MASTER = "local[2]"
TARGETS = {
    "wall_s": 5.0,
    "peak_mb": 3072.0,
    "vs_handwritten": 2.0,
    "vs_zen": 100.0,
    "row_us": 50.0,
    "compile_ms": 300.0,
    "batch_vs_floor": 1.5,
    "duckdb_vs_floor": 2.0,
}


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- one engine, in a child process ----------------------------------------------------


def _floor(out: Path, policy: str) -> Path:
    """The floor's plan rows for a policy: the hand-written query's, else the batch engine's."""
    written = out / f"handwritten-{policy}.parquet"
    return written if written.exists() else out / f"batch-{policy}.parquet"


def _same_as_floor(out: Path, policy: str, plan: Path) -> dict[str, Any]:
    import polars as pl

    floor = _floor(out, policy)
    if not floor.exists() or floor == plan:
        return {}
    expected = pl.read_parquet(floor)
    return {
        "floor": floor.stem.split("-")[0],
        "same_as_floor": pl.read_parquet(plan).select(expected.columns).equals(expected),
    }


def _failure(stderr: str) -> str:
    """What stopped a child: the exception's own line (a database's message runs on over several lines)."""
    lines = stderr.strip().splitlines()
    raised = [line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b", line)]
    return (raised or lines or ["failed"])[-1]


def _planned(
    plan: FramePlan, policy_name: str, out: Path, target: Path, started: float, planned: float, **extra: Any
) -> dict[str, Any]:
    """An engine's result row: its timings (from `load_policy`), the plan's size, the check against the floor."""
    done = time.perf_counter()
    return {
        "invoices": plan.invoice_count,
        "seconds": done - started,
        "plan_s": planned - started,
        "write_s": done - planned,
        "actions": plan.actions.counts().actions,  # not `frame`: a plan in ranges would read its files whole
        "row_engine_customers": plan.fallback_customers,
        **extra,
        **_same_as_floor(out, policy_name, target),
    }


def _batch(policy_name: str, data: Path, out: Path, digest: bool) -> dict[str, Any]:
    from arrears.engine.batch import make_plan_batch
    from arrears.engine.batch.planfiles import write_plan
    from arrears.rules.loader import load_policy

    started = time.perf_counter()
    policy = load_policy(POLICIES[policy_name])
    plan = make_plan_batch(policy, data, AS_OF, digest=digest)
    planned = time.perf_counter()
    target = out / f"batch{'' if digest else '-no-digest'}-{policy_name}.parquet"
    write_plan(plan, target, "parquet", digest=digest)
    return _planned(plan, policy_name, out, target, started, planned)


def _sql(engine: str, policy_name: str, data: Path, out: Path, memory_limit: str | None) -> dict[str, Any]:
    """DuckDB or Spark (local[2]), from `load_policy` to the written Parquet plan; Spark's start-up apart."""
    from arrears.engine.batch.planfiles import write_plan
    from arrears.rules.loader import load_policy

    started = time.perf_counter()
    policy = load_policy(POLICIES[policy_name])
    target = out / f"{engine}-{policy_name}.parquet"
    extra: dict[str, Any] = {}
    if engine == "duckdb":
        from arrears.engine.sql.duck import make_plan_duckdb

        plan = make_plan_duckdb(policy, data, AS_OF, memory_limit=memory_limit)
        extra["memory_limit"] = memory_limit or "-"
    else:
        from arrears.engine.sql.spark import make_plan_spark, spark_session

        with spark_session(SPARK_MASTER) as session:
            ready = time.perf_counter()
            plan = make_plan_spark(policy, data, AS_OF, session=session)
            extra["startup_s"] = ready - started
    planned = time.perf_counter()
    write_plan(plan, target, "parquet")
    return _planned(plan, policy_name, out, target, started, planned, **extra)


def _handwritten(policy_name: str, data: Path, out: Path) -> dict[str, Any]:
    import polars as pl

    from benchmarks.peers import handwritten, handwritten_heavy

    run = {"sparse": handwritten.run, "heavy": handwritten_heavy.run}[policy_name]
    started = time.perf_counter()
    actions = run(data, AS_OF, out / f"handwritten-{policy_name}.parquet")
    seconds = time.perf_counter() - started
    return {
        "invoices": pl.scan_parquet(data / "invoices.parquet").select(pl.len()).collect().item(),
        "seconds": seconds,
        "actions": actions.height,
    }


def _sample_customers(data: Path, sample: int) -> set[str]:
    import polars as pl

    counts = (
        pl.read_parquet(data / "invoices.parquet", columns=["customer_id"])["customer_id"]
        .value_counts()
        .sort("customer_id")
    )
    picked = counts.filter(pl.col("count").cum_sum() <= sample)["customer_id"]
    return set(picked.to_list())


def _row(data: Path, sample: int, profile: bool) -> dict[str, Any]:
    from arrears.engine.batch.folder import read_tables
    from arrears.engine.plan import make_plan
    from arrears.engine.snapshot import bind
    from arrears.rules.loader import load_policy

    policy = load_policy(POLICY)
    raw = read_tables(data).raw(_sample_customers(data, sample))
    started = time.perf_counter()
    snapshot = bind(raw, policy, AS_OF)
    bound = time.perf_counter()
    plan = make_plan(policy, snapshot)
    evaluated = time.perf_counter()
    plan.to_json()
    rendered = time.perf_counter()
    count = len(snapshot.invoices)
    result: dict[str, Any] = {
        "invoices": count,
        "seconds": evaluated - bound,
        "bind_us": (bound - started) / count * 1e6,
        "make_plan_us": (evaluated - bound) / count * 1e6,
        "render_us": (rendered - evaluated) / count * 1e6,
        "end_to_end_us": (rendered - started) / count * 1e6,
        "actions": len(plan.actions),
    }
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        make_plan(policy, snapshot)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(14)
        result["profile"] = text.getvalue()
    return result


def _zen(data: Path, sample: int) -> dict[str, Any]:
    import zen

    from benchmarks.peers.ladder import contexts, inputs, zen_graph

    frame = inputs(data, AS_OF, sample)
    requests = contexts(frame)
    decision = zen.ZenEngine().create_decision(zen_graph())
    started = time.perf_counter()
    answers = [decision.evaluate(ctx)["result"].get("step") for ctx in requests]
    seconds = time.perf_counter() - started
    engine = zen.ZenEngine({"loader": lambda key: zen_graph()})
    batch: list[Any] = [
        {"key": "ladder.json", "context": ctx} for ctx in requests
    ]  # zen-engine 2 types them as its own TypedDict
    started = time.perf_counter()
    batched = engine.evaluate_batch(batch)
    batch_seconds = time.perf_counter() - started
    batch_answers = [r["data"]["result"].get("step") for r in batched]
    expected = frame["expected"].to_list()
    return {
        "invoices": len(requests),
        "seconds": seconds,
        "batch_call_s": batch_seconds,
        "correct": answers == expected and batch_answers == expected,
    }


def _rule_engine(data: Path, sample: int) -> dict[str, Any]:
    import rule_engine

    from benchmarks.peers.ladder import RULE_ENGINE_GATE, RULE_ENGINE_RULES, contexts, inputs

    frame = inputs(data, AS_OF, sample)
    requests = contexts(frame)
    gate = rule_engine.Rule(RULE_ENGINE_GATE)
    steps = [(step, rule_engine.Rule(text)) for step, text in RULE_ENGINE_RULES]
    started = time.perf_counter()
    answers: list[int | None] = []
    for ctx in requests:
        chosen = None
        if gate.matches(ctx):
            for step, rule in steps:
                if rule.matches(ctx):
                    chosen = step
                    break
        answers.append(chosen)
    seconds = time.perf_counter() - started
    return {"invoices": len(requests), "seconds": seconds, "correct": answers == frame["expected"].to_list()}


def policy_of(rules: int) -> str:
    """A policy of `rules` rules cycling through the benchmark policy's conditions, plus its ladder."""
    import yaml

    base = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    template = base["rules"]
    out = []
    for i in range(rules):
        rule = dict(template[i % len(template)])
        rule["id"] = f"{rule['id']}-{i}"
        out.append(rule)
    base["rules"] = out
    return yaml.safe_dump(base, sort_keys=False, allow_unicode=True)


def _compile(data: Path) -> dict[str, Any]:
    from arrears.engine.batch.engine import load_frames, lowered, param_types
    from arrears.engine.batch.translate import translate
    from arrears.rules.loader import load_policy_text

    text = policy_of(200)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        policy = load_policy_text(text, "policy-200.yaml")
        times.append(time.perf_counter() - started)
    small = data.parent / (data.name + "-compile")
    if not small.exists():
        from benchmarks.generate import generate

        small.mkdir(parents=True)
        for name, frame in generate(2000, 200, 4000, AS_OF, 11).items():
            frame.write_parquet(small / f"{name}.parquet")
    frames = load_frames(policy, small, AS_OF)
    batch_times = []
    for _ in range(3):
        started = time.perf_counter()
        translate(lowered(policy), frames, param_types(policy))
        batch_times.append(time.perf_counter() - started)
    return {
        "rules": len(policy.rules),
        "load_policy_ms": min(times) * 1000,
        "batch_compile_ms": min(batch_times) * 1000,
        "invoices": 0,
        "seconds": min(times),
    }


def child(
    engine: str,
    data: Path,
    out: Path,
    sample: int,
    profile: bool,
    policy: str = "sparse",
    memory_limit: str | None = None,
) -> dict[str, Any]:
    if engine in ("batch", "batch-no-digest"):
        result = _batch(policy, data, out, engine == "batch")
    elif engine in ("duckdb", "spark"):
        result = _sql(engine, policy, data, out, memory_limit)
    elif engine == "handwritten":
        result = _handwritten(policy, data, out)
    elif engine == "row":
        result = _row(data, sample, profile)
    elif engine == "zen":
        result = _zen(data, sample)
    elif engine == "rule-engine":
        result = _rule_engine(data, sample)
    else:
        result = _compile(data)
    result["engine"] = engine
    result["peak_mb"] = _maxrss_mb()
    return result


# -- the parent: run each engine, print the comparison ---------------------------------------


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("polars", "pyarrow", "duckdb", "pyspark", "zen-engine", "rule-engine", "arrears"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "-"
    return found


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def run_engine(
    engine: str,
    data: Path,
    out: Path,
    sample: int,
    profile: bool,
    in_process: bool = False,
    policy: str = "sparse",
    memory_limit: str | None = None,
) -> dict[str, Any]:
    if in_process:
        # Same interpreter, one engine after another: peak memory is then the process's so far.
        return child(engine, data, out, sample, profile, policy, memory_limit)
    command = [
        sys.executable,
        __file__,
        "--child",
        engine,
        "--data",
        str(data),
        "--out",
        str(out),
        "--sample",
        str(sample),
        "--policies",
        policy,
    ]
    if memory_limit:
        command += ["--memory-limit", memory_limit]
    if profile:
        command.append("--profile-row")
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        return {"engine": engine, "error": _failure(done.stderr)}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "arrears-bench" / "1m")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=2_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--profile-row", action="store_true")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run every engine in this one process (peak memory is then cumulative) instead of a child each",
    )
    parser.add_argument("--policies", default="sparse,heavy", help="sparse, heavy or both (comma-separated)")
    parser.add_argument("--memory-limit", help="duckdb: the database's memory limit, e.g. 4GB")
    parser.add_argument(
        "--large",
        action="store_true",
        help="the 10M-invoice portfolio (1M customers, 20M history rows) through DuckDB under a 4GB limit",
    )
    parser.add_argument("--child", choices=ENGINES)
    args = parser.parse_args(argv)
    if args.child:
        out = args.out or Path(tempfile.mkdtemp())
        result = child(args.child, args.data, out, args.sample, args.profile_row, args.policies, args.memory_limit)
        print(json.dumps(result))
        return 0
    if args.large:
        args.invoices, args.customers, args.history = 10_000_000, 1_000_000, 20_000_000
        args.memory_limit = args.memory_limit or "4GB"
        args.engines = "duckdb"
        args.repeat = 1
        if args.data == parser.get_default("data"):
            args.data = args.data.parent / "10m"

    if not (args.data / "invoices.parquet").exists():
        from benchmarks.generate import main as generate

        generate(
            [
                str(args.data),
                "--invoices",
                str(args.invoices),
                "--customers",
                str(args.customers),
                "--history",
                str(args.history),
            ]
        )
    out = args.out or Path(tempfile.mkdtemp(prefix="arrears-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, {_cpu()}, {_memory_gb():.0f} GB; {platform.platform()}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in _versions().items()))
    print(f"data: {args.data} (as_of {AS_OF})")
    engines = args.engines.split(",")
    policies = args.policies.split(",")
    # The floor first, so that every engine after it is checked against its rows.
    engines.sort(key=lambda e: ENGINES.index(e) if e in ENGINES else len(ENGINES))
    for policy in policies:
        results: dict[str, dict[str, Any]] = {}
        for engine in engines:
            if policy != "sparse" and engine not in PLANNERS:
                continue  # the peers and the row sample measure the sparse policy only
            # Every engine gets the same number of runs and is reported by its best one.
            runs = [
                run_engine(
                    engine,
                    args.data,
                    out,
                    args.sample,
                    args.profile_row and i == 0,
                    args.in_process,
                    policy,
                    args.memory_limit,
                )
                for i in range(args.repeat)
            ]
            good = [r for r in runs if "error" not in r]
            results[engine] = min(good, key=lambda r: r["seconds"]) if good else runs[0]
            results[engine]["runs"] = [round(r["seconds"], 3) for r in good]
            profiles = [r["profile"] for r in good if "profile" in r]
            if profiles:
                results[engine]["profile"] = profiles[0]
        print(f"\npolicy: {policy} ({POLICIES[policy].relative_to(ROOT)})")
        _report(results, policy)
    return 0


def _report(results: dict[str, dict[str, Any]], policy: str = "sparse") -> None:
    print()
    print(f"{'engine':<16} {'invoices':>9} {'seconds':>9} {'invoices/s':>12} {'us/invoice':>11} {'peak MB':>8}  notes")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<16} error: {r['error']}")
            continue
        if name == "compile":
            compiled = f"load_policy {r['load_policy_ms']:.0f} ms, batch compile {r['batch_compile_ms']:.0f} ms"
            print(f"{name:<16} {'-':>9} {'-':>9} {'-':>12} {'-':>11} {r['peak_mb']:>8.0f}  200 rules: {compiled}")
            continue
        rate = r["invoices"] / r["seconds"] if r["seconds"] else 0.0
        notes = []
        for key in (
            "plan_s",
            "write_s",
            "actions",
            "row_engine_customers",
            "startup_s",
            "memory_limit",
            "floor",
            "same_as_floor",
            "correct",
            "bind_us",
            "make_plan_us",
            "render_us",
            "end_to_end_us",
            "batch_call_s",
        ):
            if key in r:
                value = r[key]
                notes.append(f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}")
        notes.append(f"runs={r.get('runs')}")
        per = r["seconds"] / max(r["invoices"], 1) * 1e6
        counts = f"{r['invoices']:>9} {r['seconds']:>9.3f} {rate:>12,.0f} {per:>11.2f} {r['peak_mb']:>8.0f}"
        print(f"{name:<16} {counts}  {' '.join(notes)}")
        if "profile" in r:
            print(r["profile"])
    _floor_targets(results)
    if policy != "sparse":
        return
    print()
    print("targets (issue 4, item 5):")

    def line(label: str, value: float | None, target: float, better: str, unit: str) -> None:
        if value is None:
            print(f"  {label}: not measured")
            return
        ok = value <= target if better == "below" else value >= target
        gap = value / target if better == "below" else target / value if value else float("inf")
        verdict = "met" if ok else f"MISSED by {gap:.2f}x"
        print(f"  {label}: {value:.2f} {unit} (target {'<=' if better == 'below' else '>='} {target:g}) {verdict}")

    batch = results.get("batch", {})
    nodigest = results.get("batch-no-digest", {})
    hand = results.get("handwritten", {})
    zen_r = results.get("zen", {})
    row = results.get("row", {})
    comp = results.get("compile", {})
    line("batch Parquet->Parquet wall", batch.get("seconds"), TARGETS["wall_s"], "below", "s")
    line("batch Parquet->Parquet without digest", nodigest.get("seconds"), TARGETS["wall_s"], "below", "s")
    line("batch peak memory", batch.get("peak_mb"), TARGETS["peak_mb"], "below", "MB")
    if batch.get("seconds") and hand.get("seconds"):
        line("batch / hand-written Polars", batch["seconds"] / hand["seconds"], TARGETS["vs_handwritten"], "below", "x")
    if nodigest.get("seconds") and hand.get("seconds"):
        line(
            "batch without digest / hand-written",
            nodigest["seconds"] / hand["seconds"],
            TARGETS["vs_handwritten"],
            "below",
            "x",
        )
    if batch.get("seconds") and zen_r.get("seconds"):
        ratio = (batch["invoices"] / batch["seconds"]) / (zen_r["invoices"] / zen_r["seconds"])
        line("batch throughput / zen-engine per-invoice", ratio, TARGETS["vs_zen"], "above", "x")
    if nodigest.get("seconds") and zen_r.get("seconds"):
        ratio = (nodigest["invoices"] / nodigest["seconds"]) / (zen_r["invoices"] / zen_r["seconds"])
        line("batch without digest / zen-engine per-invoice", ratio, TARGETS["vs_zen"], "above", "x")
    if hand.get("seconds") and zen_r.get("seconds"):
        ratio = (hand["invoices"] / hand["seconds"]) / (zen_r["invoices"] / zen_r["seconds"])
        print(f"  (context) hand-written Polars floor / zen-engine per-invoice: {ratio:.1f}x")
    line("row engine make_plan", row.get("make_plan_us"), TARGETS["row_us"], "below", "us/invoice")
    line("row engine bind + make_plan + JSON", row.get("end_to_end_us"), TARGETS["row_us"], "below", "us/invoice")
    line("compile 200 rules (load_policy)", comp.get("load_policy_ms"), TARGETS["compile_ms"], "below", "ms")
    line("compile 200 rules (batch)", comp.get("batch_compile_ms"), TARGETS["compile_ms"], "below", "ms")


def _floor_targets(results: dict[str, dict[str, Any]]) -> None:
    """Issue 10, item 7: every plan equal to the floor; batch within 1.5x of it, DuckDB within 2x."""
    floor = results.get("handwritten") or results.get("batch")
    name = "hand-written Polars" if "handwritten" in results else "the batch engine (no hand-written query)"
    print()
    print(f"against the floor ({name}):")
    for engine, r in results.items():
        if "same_as_floor" in r:
            print(f"  {engine}: plan {'equal to' if r['same_as_floor'] else 'DIFFERENT from'} the floor's")
        elif "error" in r:
            print(f"  {engine}: error")
    if not floor or not floor.get("seconds"):
        return
    for engine, target in (("batch", TARGETS["batch_vs_floor"]), ("duckdb", TARGETS["duckdb_vs_floor"])):
        r = results.get(engine, {})
        if r.get("seconds") and r is not floor:
            ratio = r["seconds"] / floor["seconds"]
            verdict = "met" if ratio <= target else f"MISSED by {ratio / target:.2f}x"
            print(f"  {engine} / floor: {ratio:.2f}x (target <= {target:g}x) {verdict}")
    spark = results.get("spark", {})
    if spark.get("seconds"):
        print(f"  spark {SPARK_MASTER}: {spark['seconds']:.1f} s, of which start-up {spark['startup_s']:.1f} s")


if __name__ == "__main__":
    raise SystemExit(main())
