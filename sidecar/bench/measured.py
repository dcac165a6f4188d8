"""What ``sidecar bench`` measured (the report both the table and its notes read)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from sidecar.bench.load import LoadResult
from sidecar.bench.phases import FulfilResult
from sidecar.bench.probe import Probe
from sidecar.bench.sweeps import SweepTiming
from sidecar.bench.told import ToldResult


@dataclass
class Report:
    """Everything measured, and the facts about the machine and the setup."""

    mariadb: str
    machine: str
    sweep_db_url: str
    gunicorn: str = "?"
    date: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    minutes: float = 0.0
    load_start: float = field(default_factory=lambda: os.getloadavg()[0])
    load_end: float = 0.0
    options: Any = None
    probe: Probe | None = None
    checkout: LoadResult | None = None
    fulfil: list[FulfilResult] = field(default_factory=list)
    told: ToldResult | None = None
    ipn: dict[tuple[str, int], LoadResult] = field(default_factory=dict)
    sweeps: list[SweepTiming] = field(default_factory=list)
    memory: dict[str, int] = field(default_factory=dict)
    workers_seen: dict[str, int] = field(default_factory=dict)


Row = tuple[str, str, str, str, str]
