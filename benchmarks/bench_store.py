"""Events persisted per second by the store's event log, on SQLite and PostgreSQL.

Batched appends (``EventLog(durable=False, batch_size=500)``, one transaction
per 500 events) against the baseline of one commit per event (the durable
mode), in the same process, on a fresh SQLite file and a fresh PostgreSQL
schema. Run: ``.venv/bin/python benchmarks/bench_store.py``. PostgreSQL is
read from ``CALLCENTER_TEST_POSTGRESQL_URL`` (default: the CI server on
127.0.0.1); when it is unreachable its figures are ``null``.
"""

from __future__ import annotations

import json
import os
import time

from callcenter_sdk import StoreError
from callcenter_sdk.store import EventLog, temporary_store
from callcenter_sdk.tickets import TicketNoteAdded

POSTGRESQL_URL = os.environ.get(
    "CALLCENTER_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BATCHED_EVENTS = 50_000
BASELINE_EVENTS = 2_000
SECONDS_CAP = 15.0
"""Stop a run early after this long, so the whole benchmark stays under two minutes."""


def _rate(log: EventLog, count: int) -> float:
    start = time.perf_counter()
    done = 0
    while done < count:
        log.append(
            TicketNoteAdded(
                at=float(done), ticket_id=f"T{done % 977}", author="ag1", internal=False
            )
        )
        done += 1
        if done % 500 == 0 and time.perf_counter() - start > SECONDS_CAP:
            break
    log.flush()
    return done / (time.perf_counter() - start)


def measure(url: str) -> tuple[float, float]:
    """Return (batched, one-commit-per-event) events per second for ``url``."""
    with temporary_store(url) as store:
        baseline = _rate(EventLog(store, durable=True), BASELINE_EVENTS)
        batched = _rate(EventLog(store, durable=False, batch_size=500), BATCHED_EVENTS)
        written = EventLog(store).last_seq()
        assert written >= BASELINE_EVENTS, written
    return batched, baseline


def main() -> None:
    """Print the figures, then the JSON summary as the last line."""
    results: dict[str, float | None] = {}
    for name, url in (("sqlite", "sqlite://"), ("postgresql", POSTGRESQL_URL)):
        try:
            batched, baseline = measure(url)
        except StoreError as exc:
            print(f"{name}: skipped ({exc})")
            results |= {f"{name}_events_per_s": None, f"{name}_baseline_events_per_s": None}
            continue
        print(
            f"{name:>10}: batched {batched:10,.0f} events/s | one commit per event"
            f" {baseline:8,.0f} events/s | ratio x{batched / baseline:.1f}"
        )
        results |= {
            f"{name}_events_per_s": round(batched),
            f"{name}_baseline_events_per_s": round(baseline),
            f"{name}_batch_speedup": round(batched / baseline, 1),
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
