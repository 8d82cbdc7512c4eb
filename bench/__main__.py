"""`python -m bench`: the benchmark. Builds the synthetic portfolio (130 plans, 20,000 key
actions, 200,000 comments, 5,000 people) and a small one (200 actions), drives real updates
through the full `Application`, and writes `bench/results/latest.json` and a table.

    python -m bench                       # SQLite
    python -m bench --postgres URL        # SQLite and PostgreSQL
    python -m bench --quick               # smaller sizes, fewer runs (a smoke run)
    python -m bench --only load --quick   # only the load scenario (bench.load), small N
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.databases import scratch_database
from bench.deliverables import dashboard_api, exports, hostile_files, open_rounds
from bench.measure import Stats, children_rss_mb, current_rss_mb, peak_rss_mb
from bench.portfolio import Portfolio, load
from bench.scenarios import Context, baseline, bot_app, chat_flows, reports, sizes
from storage.db import create_engine, create_sessions

#: Resident memory once the bot's modules (and the benchmark's) are imported.
RSS_MB_AT_IMPORT = round(current_rss_mb(), 1)
RESULTS = Path(__file__).with_name("results")
TARGETS = {
    "chat median ms": 5.0,
    "chat p99 ms": 20.0,
    "resumen one plan ms": 20.0,
    "resumen portfolio ms": 150.0,
    "size ratio": 1.5,
    "notifications per second": 25.0,
    "peak rss mb": 200.0,
    "export ratio to xlsx": 2.0,
    "longest loop step during an export ms": 50.0,
    "dashboard api ms": 150.0,
    "round asks queued per second": 1000.0,
}


async def _build(url: str, sizes: dict[str, int], tmp: Path) -> Portfolio:
    out = tmp / f"portfolio-{sizes['actions']}.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.portfolio", url, json.dumps(sizes), str(out)
    )
    if await process.wait() != 0:
        raise SystemExit("building the portfolio failed")
    return load(out)


async def _run_backend(kind: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    full = dict(plans=130, actions=20_000, comments=200_000, people=5_000, units=400)
    if args.quick:
        full = dict(plans=20, actions=2_000, comments=20_000, people=500, units=60)
    small = dict(plans=2, actions=200, comments=2_000, people=100, units=6)
    runs = 40 if args.quick else 200
    out: dict[str, Any] = {"backend": kind, "portfolio": full, "small": small}

    url = await scratch_database(kind, "full", args.postgres, tmp)
    started = time.perf_counter()
    portfolio = await _build(url, full, tmp)
    out["build_seconds"] = round(time.perf_counter() - started, 1)
    engine = create_engine(url)
    sessions = create_sessions(engine)
    # Where the memory goes: the process's resident memory after each phase (a run on
    # PostgreSQL starts where the one on SQLite left the process).
    by_phase: dict[str, float] = {"imports": RSS_MB_AT_IMPORT}
    app, request = await bot_app(sessions, url)
    ctx = Context(app, request, sessions, portfolio)
    by_phase["application built"] = round(current_rss_mb(), 1)
    base = await baseline(runs)
    stats: list[Stats] = [base]
    stats += await chat_flows(ctx, runs)
    by_phase["chat flows"] = round(current_rss_mb(), 1)
    stats += await reports(ctx, 10 if args.quick else 50)
    by_phase["/resumen (one plan, portfolio), export of one plan"] = round(current_rss_mb(), 1)
    exported, out["exports"] = await exports(ctx, 3 if args.quick else 5)
    stats += exported
    by_phase["exports of the largest plan (xlsx, docx, pdf)"] = round(current_rss_mb(), 1)
    stats += await dashboard_api(ctx, 10 if args.quick else 20)
    by_phase["dashboard API"] = round(current_rss_mb(), 1)
    out["hostile_files"] = await hostile_files()
    out["rss_mb_after_scenarios"] = round(current_rss_mb(), 1)
    by_phase["hostile files"] = out["rss_mb_after_scenarios"]
    out["rss_mb_by_phase"] = by_phase
    # Worker processes (files are written in one each) must not stay holding memory: what the
    # live ones hold, beside the figure above.
    out["rss_mb_child_processes_after_scenarios"] = round(children_rss_mb(), 1)
    # The baseline again: on a shared machine, a slower phase shows as a slower baseline.
    after = await baseline(runs)
    after.name = "baseline echo, again after"
    stats.append(after)

    small_url = await scratch_database(kind, "small", args.postgres, tmp)
    small_portfolio = await _build(small_url, small, tmp)
    small_engine = create_engine(small_url)
    small_sessions = create_sessions(small_engine)
    small_app, small_request = await bot_app(small_sessions, small_url)
    small_ctx = Context(small_app, small_request, small_sessions, small_portfolio)
    by_size = await sizes(ctx, small_ctx, runs)
    out["rounds"] = await open_rounds(ctx)  # last: it fills the outbox
    for application, database in ((app, engine), (small_app, small_engine)):
        await application.shutdown()
        await database.dispose()

    for item in stats:
        item.ratio_to_baseline = (
            round(item.median_ms / base.median_ms, 2) if base.median_ms else None
        )
    out["scenarios"] = [s.as_dict() for s in stats]
    out["size_ratio"] = {
        big.name: {
            "at_full_ms": round(big.median_ms, 3),
            "at_200_actions_ms": round(small.median_ms, 3),
            "ratio": round(big.median_ms / small.median_ms, 2),
        }
        for big, small in by_size
    }
    if not args.skip_outbox:
        from bench.delivery import drain_outbox

        out["outbox"] = await drain_outbox(kind, args, tmp)
    out["verdicts"] = verdicts(out)
    return out


CHAT_FLOWS = (
    "register (/start code)",
    "/acciones",
    "list page (all, page 2)",
    "list filter (overdue)",
    "open card",
    "post comment",
    "change status",
)


def verdicts(backend: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target against what this backend measured (worst case where there are several)."""
    by_name = {s["name"]: s for s in backend["scenarios"]}
    chat = [by_name[name] for name in CHAT_FLOWS]
    t = TARGETS
    rows: list[tuple[str, float, float, bool]] = [
        (
            "chat median ms (worst flow)",
            max(s["median_ms"] for s in chat),
            t["chat median ms"],
            False,
        ),
        ("chat p99 ms (worst flow)", max(s["p99_ms"] for s in chat), t["chat p99 ms"], False),
        (
            "/resumen one plan median ms",
            by_name["/resumen one plan"]["median_ms"],
            t["resumen one plan ms"],
            False,
        ),
        (
            "/resumen portfolio median ms",
            by_name["/resumen portfolio"]["median_ms"],
            t["resumen portfolio ms"],
            False,
        ),
        (
            "card time ratio 20,000 / 200",
            backend["size_ratio"]["card"]["ratio"],
            t["size ratio"],
            False,
        ),
        (
            "list time ratio 20,000 / 200",
            backend["size_ratio"]["list"]["ratio"],
            t["size ratio"],
            False,
        ),
        (
            "resident memory MB (hostile files refused)",
            backend["rss_mb_after_scenarios"],
            t["peak rss mb"],
            False,
        ),
        (
            "hostile files accepted",
            sum(v == "ACCEPTED" for v in backend["hostile_files"]["refused"].values()),
            0.0,
            False,
        ),
        (
            "Word export / xlsx export (largest plan)",
            backend["exports"]["ratio_docx_to_xlsx"],
            t["export ratio to xlsx"],
            False,
        ),
        (
            "PDF report / xlsx export (largest plan)",
            backend["exports"]["ratio_pdf_to_xlsx"],
            t["export ratio to xlsx"],
            False,
        ),
        (
            "longest event loop step during an export ms",
            max(backend["exports"]["longest_loop_step_ms"].values()),
            t["longest loop step during an export ms"],
            False,
        ),
        (
            "dashboard matrix (largest plan) median ms",
            by_name["dashboard matrix (largest plan)"]["median_ms"],
            t["dashboard api ms"],
            False,
        ),
        (
            "dashboard portfolio summary median ms",
            by_name["dashboard portfolio summary"]["median_ms"],
            t["dashboard api ms"],
            False,
        ),
        (
            "rounds opened on every plan: asks queued per second",
            backend["rounds"]["messages_queued"] / max(backend["rounds"]["seconds"], 0.001),
            t["round asks queued per second"],
            True,
        ),
    ]
    if "outbox" in backend:
        rows += [
            (
                "notifications per second",
                backend["outbox"]["per_second"],
                t["notifications per second"],
                True,
            ),
            ("429 answers while draining", backend["outbox"]["http_429"], 0.0, False),
        ]
    return [
        {
            "target": name,
            "measured": round(value, 2),
            "limit": limit,
            "met": value >= limit if at_least else value <= limit,
        }
        for name, value, limit, at_least in rows
    ]


def load_verdicts(load: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's load targets: wall time within 1.3x Telegram's floor, p99 at most the floor
    plus 1 s, no 429, nothing lost or duplicated; mixed load p99 at most 2x."""
    rows = []
    for run in load["runs"]:
        tag = f"N={run['people']} at {run['latency_ms']} ms"
        worst_wall = max(s["wall_to_floor"] for s in run["steps"])
        worst_p99 = max((s["p99_ms"] or 0) - s["floor_s"] * 1000 for s in run["steps"])
        rows += [
            (f"load {tag}: wall / floor (worst step)", worst_wall, 1.3),
            (f"load {tag}: p99 - floor ms (worst step)", worst_p99, 1000.0),
            (f"load {tag}: 429 answers", run["http_429"], 0.0),
            (
                f"load {tag}: comments lost or duplicated",
                run["comments_lost"] + run["comments_duplicated"],
                0.0,
            ),
        ]
    ratio = load["mixed"].get("p99_ratio_mixed_to_alone")
    if ratio is not None:
        rows.append(("mixed load: p99 ratio with / without", ratio, 2.0))
    return [
        {"target": name, "measured": round(value, 2), "limit": limit, "met": value <= limit}
        for name, value, limit in rows
    ]


def _load_table(load: dict[str, Any]) -> list[str]:
    lines = [f"load (baseline echo {load['baseline_echo_median_ms']} ms):"]
    for run in load["runs"]:
        lines.append(
            f"  N={run['people']} at {run['latency_ms']} ms: 429s {run['http_429']}, "
            f"comments lost {run['comments_lost']}, duplicated {run['comments_duplicated']}"
        )
        for s in run["steps"]:
            lines.append(
                f"    {s['step']:24} wall {s['wall_s']:6.2f} s / floor {s['floor_s']:5.2f} s "
                f"= {s['wall_to_floor']:5.2f}x  median {s['median_ms']} ms  p99 {s['p99_ms']} ms"
            )
    m = load["mixed"]
    lines.append(
        f"  mixed N={m['people']} at {m['latency_ms']} ms: /acciones p99 alone "
        f"{m['alone']['p99_ms']} ms, with export and portfolio /resumen {m['mixed']['p99_ms']} ms "
        f"(x{m['p99_ratio_mixed_to_alone']}, {m['heavy_steps']} heavy steps)"
    )
    return lines


def _table(result: dict[str, Any]) -> str:
    lines = []
    for backend in result["backends"]:
        if "scenarios" not in backend:
            lines.append(f"\n{backend['backend']}:")
            lines += _load_table(backend["load"])
            continue
        lines.append(f"\n{backend['backend']}: portfolio {backend['portfolio']}")
        lines.append(f"{'scenario':32} {'median ms':>10} {'p99 ms':>9} {'per s':>8} {'x base':>7}")
        for s in backend["scenarios"]:
            lines.append(
                f"{s['name']:32} {s['median_ms']:10.2f} {s['p99_ms']:9.2f} "
                f"{s['per_second']:8.0f} {s['ratio_to_baseline'] or 0:7.1f}"
            )
        for name, r in backend["size_ratio"].items():
            lines.append(
                f"{name} at full size / at 200 actions: {r['at_full_ms']:.2f} / "
                f"{r['at_200_actions_ms']:.2f} ms = {r['ratio']}x"
            )
        if "exports" in backend:
            e = backend["exports"]
            lines.append(
                f"exports of the largest plan ({e['largest_plan_actions']} actions): Word "
                f"{e['ratio_docx_to_xlsx']}x and PDF {e['ratio_pdf_to_xlsx']}x the xlsx; "
                f"longest event loop step {e['longest_loop_step_ms']} ms, ticker late by "
                f"{e['ticker_late_ms']} ms"
            )
        if "rounds" in backend:
            r = backend["rounds"]
            lines.append(
                f"rounds opened on {r['plans']} plans: {r['messages_queued']} asks queued "
                f"in {r['seconds']} s"
            )
        if "hostile_files" in backend:
            h = backend["hostile_files"]
            lines.append(
                f"hostile files: {h['refused']}; RSS {h['rss_mb_before']} -> {h['rss_mb_after']} MB"
            )
        if "rss_mb_by_phase" in backend:
            phases = ", ".join(f"{k} {v}" for k, v in backend["rss_mb_by_phase"].items())
            lines.append(
                f"resident MB after each phase: {phases}; child processes "
                f"{backend['rss_mb_child_processes_after_scenarios']} MB"
            )
        if "outbox" in backend:
            o = backend["outbox"]
            lines.append(
                f"outbox: {o['notifications']} notifications in {o['seconds']:.1f} s = "
                f"{o['per_second']:.1f}/s, {o['messages']} messages, 429s: {o['http_429']}"
            )
        if "load" in backend:
            lines += _load_table(backend["load"])
    for backend in result["backends"]:
        if "verdicts" not in backend:
            continue
        lines.append(f"\n{backend['backend']}: targets")
        for v in backend["verdicts"]:
            mark = "met" if v["met"] else "MISSED"
            lines.append(f"  {v['target']:34} {v['measured']:>9} (limit {v['limit']}) {mark}")
    lines.append(f"peak RSS of the benchmark process: {result['peak_rss_mb']:.0f} MB")
    return "\n".join(lines)


async def _run_load(kind: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """The load scenario (`bench.load`) on a portfolio of its own, with the echo baseline of
    the same run: N = 60 and 500 at 100 and 250 ms (`--quick`: N = 20 at 100 ms)."""
    from bench.load import run_load

    sizes = dict(plans=20, actions=2_000, comments=20_000, people=500, units=60)
    if args.quick:
        sizes = dict(plans=2, actions=200, comments=2_000, people=100, units=6)
    url = await scratch_database(kind, "load", args.postgres, tmp)
    portfolio = await _build(url, sizes, tmp)
    base = await baseline(40)
    units = [u for u, actions in portfolio.actions_by_unit.items() if actions]
    if args.quick:
        load = await run_load(url, tmp, units, sizes=[20], latencies=[0.1], mixed_n=20)
    else:
        load = await run_load(url, tmp, units, sizes=[60, 500], latencies=[0.1, 0.25], mixed_n=60)
    load["portfolio"] = sizes
    load["baseline_echo_median_ms"] = round(base.median_ms, 3)
    for run in load["runs"]:
        for step in run["steps"]:
            if step.get("median_ms") is not None and base.median_ms:
                step["median_to_baseline"] = round(step["median_ms"] / base.median_ms, 1)
    return load


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if args.only == "load":
            results = [
                {"backend": kind, "load": await _run_load(kind, args, Path(tmp))}
                for kind in backends
            ]
        else:
            results = []
            for kind in backends:
                result = await _run_backend(kind, args, Path(tmp))
                if not args.skip_load:
                    result["load"] = await _run_load(kind, args, Path(tmp))
                    result["verdicts"] += load_verdicts(result["load"])
                results.append(result)
    return {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "quick": args.quick,
        "targets": TARGETS,
        "backends": results,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-outbox", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--only", choices=["load"], help="run only this scenario")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(_table(result))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
