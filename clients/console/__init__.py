"""The staff console, served by the gateway under /console/ (see app.py)."""

from clients.console.app import create_console

__all__ = ["create_console"]
