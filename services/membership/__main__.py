from services.membership.app import create_app
from shared.service import run_service

run_service("membership", create_app, lambda s: s.membership_port)
