"""The hotline reference deployment, shortened: in virtual time, and over real SIP."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

import pytest

from callcenter_sdk.media import has_tone
from callcenter_sdk.runtime import AGENT_VOICE, CALLER_VOICE, CallCenterReport, Habits

MAIN = Path(__file__).parents[2] / "examples" / "hotline" / "main.py"

# Short conversations and little patience, so a run drains in seconds.
QUICK = Habits(
    arrivals_per_second=0.6, max_callers=6, patience=20.0, talk=(3.0, 6.0), after_call=(0.5, 1.5)
)


def _hotline() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hotline_under_test", MAIN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wavs(folder: Path) -> list[Path]:
    return sorted(folder.glob("agent*.wav"))


def _consistent(report: CallCenterReport) -> None:
    """Figures that must agree whatever the random draws were."""
    kpi = report.kpi
    assert kpi.offered == kpi.answered + kpi.abandoned  # nobody is left waiting at the end
    assert report.calls == kpi.offered + report.ivr_abandons
    assert report.tickets == kpi.answered  # one ticket per answered call
    assert report.screen_pops >= kpi.answered  # every answered call was offered with a pop
    # every answered call is disposed; so is each escalated ticket the technician worked
    assert sum(report.dispositions.values()) == kpi.answered + report.back_office_done
    assert report.escalated == report.dispositions.get("escalated", 0)  # each reached level 2
    assert report.back_office_done <= report.escalated
    assert report.callbacks_made <= report.callbacks
    # every call is for one of the two clients, and their figures add up to the center's
    assert set(report.by_client) <= {"fibrenet", "streamtv"}
    assert sum(o for o, _a, _ab in report.by_client.values()) == kpi.offered
    assert 0 <= kpi.occupancy <= 1


async def test_five_virtual_minutes_show_both_clients_callbacks_and_level_2(
    tmp_path: Path,
) -> None:
    """Five virtual minutes of the hotline: both clients' numbers are called and
    answered, callers who asked the IVR for a callback are called back and talk to
    an agent, and every escalated ticket is worked at level 2 by the technician —
    as the printed report says, its abandon rate naming the short abandons it
    leaves out."""
    lines: list[str] = []
    report = await _hotline().run(300, virtual=True, out=lines.append, seed_value=1)
    _consistent(report)
    assert set(report.by_client) == {"fibrenet", "streamtv"}
    assert all(answered > 0 for _o, answered, _ab in report.by_client.values())
    assert report.callbacks_made >= 1
    assert report.escalated >= 1
    assert report.back_office_done == report.escalated
    text = "\n".join(lines)
    assert "client streamtv" in text
    assert f"callbacks          {report.callbacks} promised, {report.callbacks_made} made" in text
    kpi = report.kpi
    assert (
        f"abandon rate       {100 * kpi.abandon_rate:.1f} % ({kpi.abandoned} abandoned,"
        f" {kpi.short_abandoned} short abandon{'' if kpi.short_abandoned == 1 else 's'}"
        " under 5 s left out)"
    ) in text  # the rate beside the abandoned count says what it leaves out


async def test_the_hotline_runs_in_virtual_time(tmp_path: Path) -> None:
    """A virtual minute of the hotline: calls arrive, are answered (some
    abandon), every answered call has a ticket and a disposition, the customer
    directory identifies callers, and the SQLite file keeps the events."""
    lines: list[str] = []
    db = tmp_path / "var" / "hotline.sqlite"
    report = await _hotline().run(60, virtual=True, db=str(db), out=lines.append, seed_value=3)
    _consistent(report)
    assert report.kpi.offered >= 5
    assert report.kpi.answered >= 5
    assert report.identified >= 1
    assert 0 < report.kpi.aht < math.inf
    assert db.is_file()
    assert "Hotline report (from the stored event log)" in lines
    assert any("queue" in line and "agents ready" in line for line in lines)


@pytest.mark.sip
@pytest.mark.skipif(
    importlib.util.find_spec("pjsua2") is None,
    reason="pjsua2 is not installed (pip install pjsua2-python)",
)
async def test_the_hotline_answers_real_sip_calls(tmp_path: Path) -> None:
    """Eight seconds of callers over SIP on loopback: callers follow the front
    door's redirect, type their account and a topic in DTMF (the IVR routes
    them, so the digits arrived), agents' phones answer and are bridged to the
    callers: what the agents recorded holds the callers' voice."""
    lines: list[str] = []
    report = await _hotline().run(
        8, virtual=False, out=lines.append, every=2.0, record_dir=str(tmp_path), habits=QUICK
    )
    _consistent(report)
    assert report.kpi.answered >= 1
    assert report.identified >= 1  # a typed account number found its customer
    recordings = _wavs(tmp_path)
    assert recordings
    heard = [r for r in recordings if has_tone(r, CALLER_VOICE)]
    assert heard, "no agent heard a caller"
    assert not any(has_tone(r, AGENT_VOICE) for r in heard)  # they hear the caller, not themselves
    assert any(line.startswith("call center at sip:hotline@127.0.0.1:") for line in lines)
