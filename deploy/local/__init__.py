"""Running LienHiep on one machine: the embedded store, the broker check, a mail
catcher and the four services. `python -m deploy.local` (what `make run` calls)."""
