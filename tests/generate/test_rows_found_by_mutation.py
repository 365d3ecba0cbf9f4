"""Two bugs the mutation runs of round 3 found in code they measured (i21's note):
a hand-edited journal row whose ``made_by`` is blank was a traceback, and a take's created
time read back from the lock was shifted by the local time zone."""

from __future__ import annotations

import time

import pytest
from test_journal_rows_rules import db, take_row

from storyboard.generate.journalrows import RowError, take_fields
from storyboard.generate.state import Take


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_made_by_is_one_message(blank: str) -> None:
    with pytest.raises(RowError, match="made_by"):
        take_fields(db(), take_row(made_by=blank))


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_the_created_time_survives_the_lock_in_any_time_zone(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        take = Take(
            "a", 1, "k", None, "t", "v", None, None, "build/takes/a/take-1.mp4", 10, "0" * 64,
            0.4, 4.0, created_at=1_700_000_000.0, made_by="emulator",
        )  # fmt: skip
        back = Take.from_lock("a", take.to_lock())
        assert back.created_at == 1_700_000_000.0
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
