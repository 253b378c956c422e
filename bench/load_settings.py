"""Django settings of the load test (``bench/load.py``): the project's, with the
PostgreSQL session settings of the pass given as libpq options in ``BENCH_PG_OPTIONS``
(empty: the server's own settings, without the project's ``-c jit=off``). The project's
settings put ``options`` in the connection string, which libpq prefers to ``PGOPTIONS``:
hence this module rather than the environment."""

import os

from guichet.settings import *  # noqa: F403
from guichet.settings import DATABASES

if "BENCH_PG_OPTIONS" in os.environ:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.pop("options", None)
    if os.environ["BENCH_PG_OPTIONS"]:
        _options["options"] = os.environ["BENCH_PG_OPTIONS"]
