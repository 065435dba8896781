from services.gateway.app import create_app, server_options
from shared.service import run_service

run_service(
    "gateway", create_app, lambda s: s.gateway_port, host_of=lambda s: s.gateway_host, server_options=server_options
)
