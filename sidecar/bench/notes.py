"""The words under the ``sidecar bench`` table: how each figure was taken, what limits a miss."""

from __future__ import annotations

import os
import statistics
from typing import TYPE_CHECKING

from sidecar.bench.load import LoadResult, percentile
from sidecar.bench.phases import IPN_INTENTS

if TYPE_CHECKING:
    from sidecar.bench.measured import Report, Row


def method_notes(report: Report) -> list[str]:
    """Say how each figure was measured."""
    opts = report.options
    return [
        "How:",
        f"- IPN: {IPN_INTENTS:,} intents awaiting payment stored in bulk (multi-row INSERT); each"
        " IPN is a PayTabs-shaped body signed with the server key (sign_ipn) for another intent,"
        " so each ack verifies, looks the intent up, queues its confirmation and logs the"
        f" notification. {opts.ipn_seconds:g} s per level after 2 warm-up requests per sender;"
        " latency is taken by the client per request. The worker is stopped meanwhile. no-op:"
        " sidecar/bench/noop.py under the same gunicorn config.",
        "- paid -> fulfilled: intents from the checkouts, paid one at a time at the simulator"
        " (its IPN goes to gunicorn); `sidecar worker` runs as a process as in production"
        " (sweeps set to hourly so they queue nothing in between); from the 'paid' to the"
        " 'fulfilled' transition; floor = WordPress calls begun in that window x the delay."
        f" {opts.fulfil_samples} payments per delay.",
        "- return -> page told fulfilled: intents paid one at a time at the simulator with its"
        " IPN dropped; the signed return is POSTed to gunicorn (as the browser does) and the"
        " status endpoint is then asked as the page's script asks it until it says 'fulfilled'"
        " (no browser: the WordPress page's own load is left out). Today: `sidecar worker` with"
        " SIDECAR_POLL_INTERVAL_SECONDS=0.5 and no wake-up, the page asking every 1.5 s. Long"
        " poll + wake-up: the worker woken by the web's datagram, the page asking with"
        " ?wait=25&since=<state>. Floor, per sample: the PayTabs query (the same cart query,"
        " asked again on a warm connection) + every WordPress request served between the return"
        " and the 'fulfilled' transition, each timed by the server."
        f" {opts.fulfil_samples} payments each way, WordPress delay {opts.wp_latencies_ms[0]} ms.",
        "- checkouts: new buyers POST the form with a fresh signed form token"
        " (issue_form_token), all for one group (capacity raised), WordPress without delay,"
        " the simulator in its own process; a 303 to the hosted page counts. The per-address"
        " rate limit is raised (every buyer here is 127.0.0.1); its SQLite counter file stays.",
        "- sweeps: history of ended intents spread over two years (purged past the 30-day"
        " retention) stored with multi-row INSERTs, plus 20 awaiting payment; sweeps.run_all"
        f" in the benchmark process after one settling run, {opts.sweep_repeats} runs per size.",
        "- memory: VmHWM from /proc/<pid>/status every 0.5 s; gunicorn replaces a worker after"
        " max_requests, so 'max of N' covers every worker seen.",
        _probe_note(report),
        "- CPU per request: user + system time from /proc/<pid>/stat over the run, divided by"
        " the requests sent (gunicorn: master and workers; client: the benchmark process, whose"
        " load threads send the requests and, for checkouts, whose sandbox WordPress answers).",
        "- the load client is Python threads (one requests.Session each) in the benchmark"
        " process, on the same cores as gunicorn, the worker, MariaDB, the simulator and the"
        " sandbox WordPress (a thread of the benchmark).",
    ]


def _probe_note(report: Report) -> str:
    probe = report.probe
    if probe is None:
        return "- dependencies alone: not measured"
    return (
        "- each dependency alone, one call at a time (median of 20): simulator hosted page"
        f" {probe.paytabs_page_ms:.1f} ms, sandbox WordPress read (no delay)"
        f" {probe.wordpress_call_ms:.1f} ms, MariaDB transaction {probe.mariadb_tx_ms:.1f} ms."
    )


def limits(report: Report, rows: list[Row]) -> list[str]:
    """Explain each missed target with the figures at hand."""
    missed = {row[0] for row in rows if row[4] == "MISS"}
    notes: list[str] = []
    cores = len(os.sched_getaffinity(0))
    for label in sorted(missed):
        if label.startswith("IPN acks/s"):
            notes.append(_ack_rate(report, cores))
        elif label.startswith("IPN ack"):
            notes.append(_one_sender(report))
        elif label.startswith("paid -> fulfilled"):
            notes.append(_fulfilment(report, label))
        elif label.startswith("return -> page told"):
            notes.append(_told(report))
        elif label.startswith("checkouts"):
            notes.append(_checkouts(report, cores))
        elif label.startswith("sweeps"):
            notes.append(_sweeps(report, label))
        elif label.startswith("peak RSS"):
            notes.append(_memory(report, label))
    return list(dict.fromkeys(notes))


def _cpu(result: LoadResult) -> str:
    """Describe the CPU time each process spent per request, e.g. "gunicorn 1.9 ms, ..."."""
    return ", ".join(f"{name} {ms:.1f} ms" for name, ms in result.cpu_ms.items())


def _ceiling(result: LoadResult, cores: int) -> float:
    """Requests per second the cores could serve at this CPU cost if nothing else ran."""
    total = sum(result.cpu_ms.values())
    return cores * 1000 / total if total else 0.0


def _busy(report: Report) -> str:
    return f"other work on this machine (load average {report.load_start:.1f} before the start)"


def _one_sender(report: Report) -> str:
    side, noop = report.ipn[("sidecar", 1)], report.ipn[("no-op", 1)]
    return (
        f"- one sender: p50 {side.ms(50):.1f} ms, p99 {side.ms(99):.1f} ms. One ack passes"
        " through the client, gunicorn and MariaDB in turn, so it takes at least their CPU time"
        f" per ack: {_cpu(side)}, {sum(side.cpu_ms.values()):.1f} ms in all. The p99 adds"
        f" waiting for a core, taken by {_busy(report)}; the do-nothing endpoint on the same"
        f" gunicorn: p50 {noop.ms(50):.1f} ms, p99 {noop.ms(99):.1f} ms."
    )


def _ack_rate(report: Report, cores: int) -> str:
    level = max(level for _, level in report.ipn)
    side, noop = report.ipn[("sidecar", level)], report.ipn[("no-op", level)]
    ceiling = _ceiling(side, cores)
    verdict = (
        f"{cores} cores at this cost cannot reach the target even when idle"
        if ceiling < 500
        else f"idle, {cores} cores would serve ~{ceiling:.0f} acks/s; the rest went to {_busy(report)}"
    )
    return (
        f"- {level} senders: {side.rate:.0f} acks/s (do-nothing endpoint: {noop.rate:.0f}/s)."
        f" CPU per ack: {_cpu(side)} (do-nothing: {_cpu(noop)}): {verdict}. The ack's own"
        " cost is the gunicorn difference: verify, one MariaDB transaction through pymysql (pure"
        " Python), two JSON log lines; the Python load client shares the same cores."
    )


def _fulfilment(report: Report, label: str) -> str:
    res = next(r for r in report.fulfil if f"WordPress {r.latency_ms} ms" in label)
    p50, p95 = (percentile(res.durations, q) * 1000 - res.floor * 1000 for q in (50, 95))
    lead, gap, tail = res.split_ms()
    alone = (
        f" (alone, without delay, a sandbox read takes {report.probe.wordpress_call_ms:.1f} ms"
        f" and a MariaDB transaction {report.probe.mariadb_tx_ms:.1f} ms)"
        if report.probe
        else ""
    )
    return (
        f"- WordPress {res.latency_ms} ms: p50 is {p50:.0f} ms and p95 {p95:.0f} ms above the"
        f" floor of {max(res.calls, default=0)} calls. Median split: {lead:.0f} ms before the"
        f" first call (claim the job, mark fulfilling), {gap:.0f} ms per call beyond the delay"
        " (the HTTP round trip to the sandbox WordPress, a Flask development server in the"
        f" benchmark process, and the step's MariaDB transaction), {tail:.0f} ms after the last"
        f" call (mark fulfilled){alone}. The p95 tail is waiting for a core, taken by"
        f" {_busy(report)}."
    )


def _told(report: Report) -> str:
    told = report.told
    if told is None:
        raise AssertionError("no return -> told measurement in the report")
    gaps = sorted(s.took - s.floor for s in told.now)
    return (
        f"- return -> page told fulfilled: beyond each sample's own floor the long poll adds"
        f" {statistics.median(gaps) * 1000:.0f} ms at the median and {gaps[-1] * 1000:.0f} ms at"
        " worst: the return's own request, the wake-up, the claim and state transactions in"
        " MariaDB, the long poll's 25 ms look at the store and the status answer, on cores"
        f" shared with {_busy(report)}."
    )


def _checkouts(report: Report, cores: int) -> str:
    res = report.checkout
    if res is None:
        raise AssertionError("no checkout measurement in the report")
    level = report.options.checkout_concurrency
    return (
        f"- checkouts: {level} buyers at p50 {res.ms(50):.0f} ms each give {res.rate:.0f}/s."
        f" CPU per checkout: {_cpu(res)}; idle, {cores} cores would serve"
        f" ~{_ceiling(res, cores):.0f}/s at this cost. A checkout waits on 2 WordPress reads"
        " (group, email), the simulator's hosted page and several MariaDB transactions, on"
        f" cores shared with the load client and {_busy(report)}."
    )


def _sweeps(report: Report, label: str) -> str:
    first, last = report.sweeps[0], report.sweeps[-1]
    grown = sorted(first.parts, key=lambda n: last.parts[n] - first.parts[n], reverse=True)
    detail = ", ".join(
        f"{name} {first.parts[name] * 1000:.1f} -> {last.parts[name] * 1000:.1f} ms"
        for name in grown[:2]
    )
    return (
        f"- sweeps grow with history ({first.size:,} -> {last.size:,} intents): {detail}."
        " Check those sweeps' queries with EXPLAIN for a range that walks ended history."
    )


def _memory(report: Report, label: str) -> str:
    noop = report.memory.get("gunicorn no-op workers", 0) / 1024
    return (
        f"- memory ({label.removeprefix('peak RSS, ')}): a Python process with the sidecar's"
        " imports (Flask, pymysql, cryptography, prometheus_client, flask-limiter, requests);"
        f" a do-nothing Flask worker under the same gunicorn peaks at {noop:.0f} MB."
    )
