"""The table ``sidecar bench`` prints: figures, targets, verdicts and what limits the misses."""

from __future__ import annotations

import statistics

from sidecar.bench.load import LoadResult, percentile
from sidecar.bench.measured import Report, Row
from sidecar.bench.notes import limits, method_notes
from sidecar.bench.told import summary_ms

ONE_SENDER_P99_MS = 10.0
ACKS_PER_SECOND = 500.0
FULFIL_SLACK_MS = 150.0
TOLD_SLACK_MS = 150.0
CHECKOUTS_PER_SECOND = 100.0
FLAT_FACTOR = 2.0
MAX_RSS_MB = 80.0
HEADERS = ("what", "measured", "no-op / floor", "target", "verdict")


def verdict(ok: bool) -> str:
    """Return the verdict word."""
    return "ok" if ok else "MISS"


def ipn_rows(report: Report) -> list[Row]:
    """IPN acknowledgement latency and sustained rate at each concurrency."""
    rows: list[Row] = []
    levels = sorted({level for _, level in report.ipn})
    for level in levels:
        side, noop = report.ipn[("sidecar", level)], report.ipn[("no-op", level)]
        target, mark = "", ""
        if level == 1:
            target = f"p99 <= {ONE_SENDER_P99_MS:g} ms"
            mark = verdict(side.ms(99) <= ONE_SENDER_P99_MS)
        rows.append((f"IPN ack p50 / p99, {_senders(level)}", _p(side), _p(noop), target, mark))
    for level in levels:
        side, noop = report.ipn[("sidecar", level)], report.ipn[("no-op", level)]
        target, mark = "", ""
        if level == max(levels):
            target = f">= {ACKS_PER_SECOND:g} acks/s"
            mark = verdict(side.rate >= ACKS_PER_SECOND)
        rows.append((f"IPN acks/s, {_senders(level)}", _rate(side), _rate(noop), target, mark))
    if levels:
        top = max(levels)
        side, noop = report.ipn[("sidecar", top)], report.ipn[("no-op", top)]
        label = f"IPN CPU per ack, {_senders(top)} ({' + '.join(side.cpu_ms)})"
        rows.append((label, cpu_sum(side), cpu_sum(noop), "", ""))
    return rows


def cpu_sum(result: LoadResult) -> str:
    """Return the CPU per request of each process, as "1.9 + 0.8 + 0.9 ms"."""
    return " + ".join(f"{ms:.1f}" for ms in result.cpu_ms.values()) + " ms"


def _senders(level: int) -> str:
    return f"{level} sender" + ("" if level == 1 else "s")


def _p(result: LoadResult) -> str:
    return f"{result.ms(50):.1f} / {result.ms(99):.1f} ms"


def _rate(result: LoadResult) -> str:
    return f"{result.rate:.0f}/s" + (f" ({result.errors} failed)" if result.errors else "")


def fulfil_rows(report: Report) -> list[Row]:
    """paid -> fulfilled at each WordPress latency, against the floor of its WordPress calls."""
    rows: list[Row] = []
    for res in report.fulfil:
        p50, p95 = (percentile(res.durations, q) * 1000 for q in (50, 95))
        floor_ms = res.floor * 1000
        calls = max(res.calls, default=0)
        rows.append(
            (
                f"paid -> fulfilled p50 / p95, WordPress {res.latency_ms} ms",
                f"{p50:.0f} / {p95:.0f} ms",
                f"floor {calls} x {res.latency_ms} = {floor_ms:.0f} ms",
                f"p95 <= floor + {FULFIL_SLACK_MS:g} ms",
                verdict(p95 <= floor_ms + FULFIL_SLACK_MS),
            )
        )
    return rows


def told_rows(report: Report) -> list[Row]:
    """PayTabs return -> status page told "fulfilled": long poll + wake-up, and polling today."""
    told = report.told
    if told is None:
        return []
    floor = "floor {:.0f} / {:.0f} / {:.0f} ms".format(*summary_ms(told.floors))
    label = "return -> page told fulfilled p50 / p95 / max, "
    now = summary_ms(s.took for s in told.now)
    floor_p95 = summary_ms(told.floors)[1]
    return [
        (
            f"{label}long poll + wake-up, WordPress {told.latency_ms} ms",
            "{:.0f} / {:.0f} / {:.0f} ms".format(*now),
            floor,
            f"p95 <= floor p95 + {TOLD_SLACK_MS:g} ms",
            verdict(now[1] <= floor_p95 + TOLD_SLACK_MS),
        ),
        (
            f"{label}polling today (worker 0.5 s, page 1.5 s)",
            "{:.0f} / {:.0f} / {:.0f} ms".format(*summary_ms(s.took for s in told.today)),
            floor,
            "",
            "",
        ),
    ]


def checkout_rows(report: Report) -> list[Row]:
    """Checkouts per second through gunicorn, with the simulator."""
    res = report.checkout
    if res is None:
        return []
    level = report.options.checkout_concurrency if report.options else "?"
    return [
        (
            f"checkouts/s, {level} concurrent (p50 / p95)",
            f"{_rate(res)} ({res.ms(50):.0f} / {res.ms(95):.0f} ms)",
            "",
            f">= {CHECKOUTS_PER_SECOND:g}/s",
            verdict(res.rate >= CHECKOUTS_PER_SECOND),
        ),
        (f"CPU per checkout ({' + '.join(res.cpu_ms)})", cpu_sum(res), "", "", ""),
    ]


def sweep_rows(report: Report) -> list[Row]:
    """run_all's time at each history size; flat means at most FLAT_FACTOR x the smallest's."""
    if not report.sweeps:
        return []
    base = report.sweeps[0].median
    rows: list[Row] = []
    for timing in report.sweeps:
        first = timing is report.sweeps[0]
        rows.append(
            (
                f"sweeps.run_all, {timing.size:,} intents (median / worst)",
                f"{timing.median * 1000:.1f} / {timing.worst * 1000:.1f} ms",
                "",
                "flat in history" if first else f"<= {FLAT_FACTOR:g} x {base * 1000:.1f} ms",
                "" if first else verdict(timing.median <= FLAT_FACTOR * base),
            )
        )
    return rows


def memory_rows(report: Report) -> list[Row]:
    """Peak RSS (VmHWM) of each process role."""
    rows: list[Row] = []
    for role in ("gunicorn sidecar", "gunicorn sidecar workers", "sidecar worker"):
        if role not in report.memory:
            continue
        mb = report.memory[role] / 1024
        noop = report.memory.get(role.replace("sidecar", "no-op", 1), 0) / 1024
        seen = report.workers_seen.get(role, 1)
        label = f"peak RSS, {role}" + (f" (max of {seen})" if seen > 1 else "")
        noop_text = f"{noop:.0f} MB" if noop and role.startswith("gunicorn") else ""
        rows.append(
            (label, f"{mb:.0f} MB", noop_text, f"<= {MAX_RSS_MB:g} MB", verdict(mb <= MAX_RSS_MB))
        )
    return rows


def table(rows: list[Row]) -> str:
    """Align rows under HEADERS as plain text."""
    widths = [max(len(r[i]) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [HEADERS, *rows]]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(report: Report) -> str:
    """Return the whole report: header, table, notes."""

    rows = [
        *ipn_rows(report),
        *fulfil_rows(report),
        *told_rows(report),
        *checkout_rows(report),
        *sweep_rows(report),
        *memory_rows(report),
    ]
    command = report.options.command if report.options else "sidecar bench"
    header = [
        "Therapy Pay Sidecar benchmark",
        f"date     {report.date} (the run took {report.minutes:.1f} min)",
        f"machine  {report.machine}",
        f"command  {command}",
        f"load     1-minute load average {report.load_start:.1f} before the start (other work on"
        f" these cores), {report.load_end:.1f} at the end (with the benchmark's own)",
        f"setup    {report.gunicorn}; MariaDB {report.mariadb}",
    ]
    misses = limits(report, rows)
    parts = ["\n".join(header), table(rows), "\n".join(method_notes(report))]
    if misses:
        parts.append("\n".join(["What limits the misses:", *misses]))
    summary = sum(1 for r in rows if r[4] == "MISS")
    parts.append(f"{summary} of {sum(1 for r in rows if r[4])} targets missed")
    return "\n\n".join(parts) + "\n"


def median_ms(values: list[float]) -> float:
    """Return the median of seconds, in milliseconds (0 when empty)."""
    return statistics.median(values) * 1000 if values else 0.0
