"""A local SMTP server that accepts every message, counts them and keeps nothing.

    .venv/bin/python bench/smtp_sink.py PORT COUNT_FILE

The number of messages received is written to COUNT_FILE after each one (fixed width,
overwritten in place), so a bench can poll it. Stops on SIGTERM / SIGINT.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class CountingSink:
    def __init__(self, path: str):
        self.n = 0
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        os.pwrite(self.fd, b"%12d\n" % 0, 0)

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        os.pwrite(self.fd, b"%12d\n" % self.n, 0)
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    sink = CountingSink(path)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"smtp sink on 127.0.0.1:{port}", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
