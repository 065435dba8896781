"""One service as its own process, as `python -m services.<name>` runs it, with its store
commands counted: a `CommandTally` is registered before the service makes its client, and
written to <BENCH_COMMANDS_DIR>/<service>.json on SIGUSR1 (`measuring.counts_of`).

    python bench/counted_service.py webhooks      # what a benchmark gives ServiceProcesses as `command`

The service's code is not touched; the listener's cost (a counter bumped per command) is
all it adds.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measuring import COMMANDS_DIR, CommandTally, dump_on_signal
from pymongo import monitoring

if __name__ == "__main__":
    tally = CommandTally()
    monitoring.register(tally)
    dump_on_signal(tally, Path(os.environ[COMMANDS_DIR]) / f"{sys.argv[1]}.json")
    runpy.run_module(f"services.{sys.argv[1]}", run_name="__main__", alter_sys=True)
