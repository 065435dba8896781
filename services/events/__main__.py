from services.events.app import create_app
from shared.service import run_service

run_service("events", create_app, lambda s: s.events_port)
