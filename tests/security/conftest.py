from tests.integration.gateway.conftest import admin, gateway, gw_settings, make_gateway, membership  # noqa: F401
