"""One service as its own process, as `python -m services.<name>` runs it, with its store
commands counted: a `CommandTally` is registered before the service makes its client, and
written to the file named by BENCH_COMMANDS_FILE on SIGUSR1 (`measuring.counts_of`).

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

from measuring import CommandTally, dump_on_signal
from pymongo import monitoring

if __name__ == "__main__":
    tally = CommandTally()
    monitoring.register(tally)
    dump_on_signal(tally, Path(os.environ["BENCH_COMMANDS_FILE"]))
    runpy.run_module(f"services.{sys.argv[1]}", run_name="__main__", alter_sys=True)
