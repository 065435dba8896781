"""The events service's endpoint declarations: the one module of the service the
gateway imports (to route, validate and document requests).

Transitional: the declarations still live beside their handlers in api.py; the
one-spine restructuring moves them (and the request/response models) here.
"""

from services.events.api import routes as api

__all__ = ["api"]
