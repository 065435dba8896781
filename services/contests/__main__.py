from services.contests.app import create_app
from shared.service import run_service

run_service("contests", create_app, lambda s: s.contests_port)
