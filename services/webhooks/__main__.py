from services.webhooks.app import create_app
from shared.service import run_service

run_service("webhooks", create_app, lambda s: s.webhooks_port)
