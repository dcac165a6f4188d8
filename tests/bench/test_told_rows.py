"""The "return -> page told fulfilled" rows: three ways side by side, well-formed (no timing)."""

from __future__ import annotations

import re

from sidecar.bench.command import BenchOptions
from sidecar.bench.measured import Report
from sidecar.bench.report import render, told_rows
from sidecar.bench.told import Told, ToldResult, summary_ms

THREE = r"\d+ / \d+ / \d+ ms"


def report_with(now: list[Told], today: list[Told]) -> Report:
    report = Report(mariadb="10.11", machine="2 cores", sweep_db_url="mysql://x")
    report.options = BenchOptions()
    report.told = ToldResult(35, today=today, now=now)
    return report


def test_told_rows_show_both_ways_against_the_floor() -> None:
    today = [Told(1.7, 0.25), Told(1.9, 0.26), Told(1.6, 0.27)]
    now = [Told(0.30, 0.25), Told(0.32, 0.26), Told(0.35, 0.27)]
    rows = told_rows(report_with(now, today))
    assert [row[0] for row in rows] == [
        "return -> page told fulfilled p50 / p95 / max, long poll + wake-up, WordPress 35 ms",
        "return -> page told fulfilled p50 / p95 / max, polling today (worker 0.5 s, page 1.5 s)",
    ]
    for row in rows:
        assert re.fullmatch(THREE, row[1]) and re.fullmatch(f"floor {THREE}", row[2])
    assert rows[0][1] == "320 / 350 / 350 ms" and rows[1][1] == "1700 / 1900 / 1900 ms"
    assert rows[0][2] == rows[1][2] == "floor 260 / 270 / 270 ms"  # every sample's floor
    assert rows[0][3] == "p95 <= floor p95 + 150 ms" and rows[0][4] == "ok"
    assert rows[1][3:] == ("", "")


def test_told_rows_miss_is_explained() -> None:
    now = [Told(0.30, 0.25), Told(0.90, 0.26)]
    text = render(report_with(now, [Told(1.7, 0.25), Told(1.8, 0.25)]))
    line = next(x for x in text.splitlines() if "long poll + wake-up" in x)
    assert line.split()[-1] == "MISS"
    assert "- return -> page told fulfilled: beyond each sample's own floor" in text
    assert "1 of 1 targets missed" in text


def test_told_summary_of_no_samples_is_zero() -> None:
    assert summary_ms([]) == (0.0, 0.0, 0.0)
    assert told_rows(Report(mariadb="", machine="", sweep_db_url="")) == []
