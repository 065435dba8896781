from services.notifications.app import create_app
from shared.service import run_service

run_service("notifications", create_app, lambda s: s.notifications_port)
