"""The demo scheduler: every pass logged, an exception never stops it."""

import threading

from cases.management.commands import rundemo


def test_scheduler_survives_a_failing_pass(monkeypatch):
    stop = threading.Event()
    calls = []
    lines = []

    def fake_run_all(today=None):
        calls.append(today)
        if len(calls) == 1:
            raise RuntimeError("base verrouillée")
        if len(calls) == 3:
            stop.set()
        return {"expired_deadlines": 0}

    monkeypatch.setattr(rundemo, "run_all", fake_run_all)
    monkeypatch.setattr(rundemo, "close_old_connections", lambda: None)
    rundemo.scheduler_loop(interval=0, stop=stop, write=lines.append)
    assert len(calls) == 3
    assert "en échec" in lines[0] and "base verrouillée" in lines[0]
    assert "expired_deadlines=0" in lines[1] and "passage n° 2" in lines[1]
