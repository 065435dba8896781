"""A local SMTP server that keeps every message as a `.eml` file.

`make run` starts it when SMTP_HOST is unset, so welcome emails land in
`var/mail/` where you can open them with any mail program.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._seq = itertools.count(1)

    async def handle_DATA(self, server, session, envelope) -> str:
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._seq):05d}.eml"
        tmp = self.folder / (name + ".part")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.folder / name)  # a reader never sees half a message
        return "250 Message accepted for delivery"


def serve(folder: Path, host: str, port: int) -> None:
    controller = Controller(SaveToFolder(folder), hostname=host, port=port)
    controller.start()
    print(f"SMTP catcher on {host}:{port}, saving to {folder}", flush=True)
    try:
        asyncio.run(_forever())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


async def _forever() -> None:
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=Path("var/mail"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    args = parser.parse_args()
    serve(args.folder, args.host, args.port)
