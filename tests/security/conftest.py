from tests.integration.gateway.conftest import (admin, gateway, gw_settings, make_gateway,  # noqa: F401
                                                membership)
