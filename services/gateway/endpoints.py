"""The gateway's own endpoints: logging in, staff accounts, partner keys, traffic,
metrics and the API documents. Declared like every service's endpoints, so they are
in the same OpenAPI document and pass the same checks at the front door; api.py
binds the handlers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from shared import parking
from shared.api import Api

api = Api("gateway", tag="auth")

USERNAME = r"^[a-z0-9][a-z0-9._-]{1,63}$"
Role = Literal["admin", "manager", "judge"]  # judge: a contest judge (the contests service limits them)
JSON_DOC = {"type": "object"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _manager_has_an_organisation(organization_id: str | None, info: ValidationInfo) -> str | None:
    if info.data.get("role") == "manager" and not organization_id:
        raise PydanticCustomError("manager_needs_organization", "a manager needs organization_id")
    return organization_id


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class StaffUser(BaseModel):
    username: str
    role: Role
    organization_id: str | None = None


class LoginOut(BaseModel):
    access_token: str = Field(description="Send as `Authorization: Bearer <token>`")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the token is valid")
    expires_at: datetime
    user: StaffUser


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=12, max_length=256)


class ApiKeyIn(Strict):
    name: str = Field(min_length=1, max_length=100, description="Who the key is for, e.g. the smart-city portal")
    scopes: list[str] = Field(min_length=1, max_length=30, description="What the key may do, e.g. `members:read`")
    organization_id: str | None = Field(
        None, min_length=1, max_length=64, description="Limit the key to this organisation and its subtree"
    )


class ApiKey(BaseModel):
    id: str = Field(description="The key's visible prefix")
    name: str
    scopes: list[str]
    organization_id: str | None = None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The key itself: shown this once, store it safely")


class ApiKeyList(BaseModel):
    items: list[ApiKey]


class StaffIn(Strict):
    username: str = Field(pattern=USERNAME, description="Lower-case letters, digits, `.`, `_`, `-`")
    password: str = Field(
        min_length=12,
        max_length=256,
        description="At least 12 characters; not the username, not one of the 10,000 most common passwords",
    )
    role: Role
    organization_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        validate_default=True,
        description="The association a manager manages (required for managers); a contest judge's own organisation",
    )

    _organisation = field_validator("organization_id")(_manager_has_an_organisation)


class StaffPatch(Strict):
    role: Role
    organization_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        validate_default=True,
        description="The association a manager manages (required for managers)",
    )

    _organisation = field_validator("organization_id")(_manager_has_an_organisation)


class PasswordReset(Strict):
    new_password: str = Field(min_length=12, max_length=256)


class Staff(BaseModel):
    username: str
    role: Role
    organization_id: str | None = None
    created_at: datetime
    locked: bool
    disabled: bool
    last_login_at: datetime | None = None


class StaffList(BaseModel):
    items: list[Staff]


class Traffic(BaseModel):
    online_now: int = Field(description="Callers seen in the last five minutes")
    today: int
    this_week: int
    this_month: int
    this_year: int
    total: int


# --- documents ------------------------------------------------------------------------

openapi = api.endpoint(
    "openapi",
    "GET",
    "/openapi.json",
    summary="This API's OpenAPI 3.1 document",
    public=True,
    tags=("meta",),
    response_media={"application/json": JSON_DOC},
)
asyncapi = api.endpoint(
    "asyncapi",
    "GET",
    "/asyncapi.json",
    summary="The AsyncAPI document of the events the services exchange",
    public=True,
    tags=("meta",),
    response_media={"application/json": JSON_DOC},
)
docs = api.endpoint(
    "docs",
    "GET",
    "/docs",
    summary="A readable page of this API",
    public=True,
    tags=("meta",),
    response_media={"text/html": {"type": "string"}},
)
traffic = api.endpoint(
    "traffic",
    "GET",
    "/stats/traffic",
    summary="Visits: online now, today, this week, month, year, in total",
    response=Traffic,
    public=True,
    tags=("stats",),
)
metrics = api.endpoint(
    "metrics",
    "GET",
    "/metrics",
    summary="The gateway's Prometheus metrics (also at /metrics; open on the internal metrics port)",
    scope="metrics:read",
    tags=("operations",),
    response_media={"text/plain": {"type": "string"}},
)

# --- logging in -----------------------------------------------------------------------

login = api.endpoint(
    "login",
    "POST",
    "/auth/login",
    summary="Log in as staff: a short-lived token",
    body=LoginIn,
    response=LoginOut,
    public=True,
    errors=(401, 423),
    description="Failed logins in a row lock the username for a while (423), whether an account has it or not. "
    "Login attempts are rate-limited per client address.",
)
refresh = api.endpoint(
    "refresh",
    "POST",
    "/auth/refresh",
    summary="Exchange a live staff token for a fresh one (the old one ends)",
    response=LoginOut,
    errors=(400,),
    description="The old token keeps working for a few seconds (GATEWAY_REFRESH_GRACE_SECONDS), so requests "
    "already sent with it finish; it cannot be refreshed twice. A login lasts at most GATEWAY_SESSION_MAX_SECONDS "
    "from the password being typed, however often it is refreshed.",
)
logout = api.endpoint(
    "logout",
    "POST",
    "/auth/logout",
    summary="End this login: the token stops working at once",
    status=204,
    errors=(400,),
)
change_password = api.endpoint(
    "change_password",
    "POST",
    "/auth/password",
    summary="Change your own password; every login of yours ends",
    body=PasswordChange,
    status=204,
    errors=(400, 401),
)
me = api.endpoint("me", "GET", "/auth/me", summary="Who this staff token belongs to", response=StaffUser)

# --- partner keys ---------------------------------------------------------------------

create_api_key = api.endpoint(
    "create_api_key",
    "POST",
    "/admin/api-keys",
    summary="Create a partner API key (shown once)",
    body=ApiKeyIn,
    response=ApiKeyCreated,
    status=201,
    admin_only=True,
    tags=("admin",),
)
list_api_keys = api.endpoint(
    "list_api_keys",
    "GET",
    "/admin/api-keys",
    summary="Partner API keys, newest first (never the keys themselves)",
    response=ApiKeyList,
    admin_only=True,
    tags=("admin",),
)
revoke_api_key = api.endpoint(
    "revoke_api_key",
    "DELETE",
    "/admin/api-keys/{key_id}",
    summary="Revoke a partner API key: it stops working at once, on every gateway",
    response=ApiKey,
    admin_only=True,
    tags=("admin",),
    errors=(404,),
)

# --- staff accounts -------------------------------------------------------------------

create_staff = api.endpoint(
    "create_staff",
    "POST",
    "/admin/staff",
    summary="Create a staff account",
    body=StaffIn,
    response=Staff,
    status=201,
    admin_only=True,
    tags=("admin",),
    errors=(409,),
)
list_staff = api.endpoint(
    "list_staff", "GET", "/admin/staff", summary="Staff accounts", response=StaffList, admin_only=True, tags=("admin",)
)
change_staff_role = api.endpoint(
    "change_staff_role",
    "PATCH",
    "/admin/staff/{username}",
    summary="Change a staff account's role and organisation; its logins end",
    body=StaffPatch,
    response=Staff,
    admin_only=True,
    tags=("admin",),
    errors=(404, 409),
    description="The last active administrator cannot be demoted (409).",
)
reset_staff_password = api.endpoint(
    "reset_staff_password",
    "POST",
    "/admin/staff/{username}/password",
    summary="Set another staff member's password (they forgot it); their logins end and the lock lifts",
    body=PasswordReset,
    response=Staff,
    admin_only=True,
    tags=("admin",),
    errors=(404,),
)
enable_staff = api.endpoint(
    "enable_staff",
    "POST",
    "/admin/staff/{username}/enable",
    summary="Enable a disabled staff account again (and lift a lock)",
    response=Staff,
    admin_only=True,
    tags=("admin",),
    errors=(404,),
)
unlock_staff = api.endpoint(
    "unlock_staff",
    "POST",
    "/admin/staff/{username}/unlock",
    summary="Unlock a staff account locked by failed logins",
    response=Staff,
    admin_only=True,
    tags=("admin",),
    errors=(404,),
)
disable_staff = api.endpoint(
    "disable_staff",
    "DELETE",
    "/admin/staff/{username}",
    summary="Disable a staff account and end its logins",
    response=Staff,
    admin_only=True,
    tags=("admin",),
    errors=(404, 409),
    description="The last active administrator cannot be disabled (409).",
)

# --- operations -----------------------------------------------------------------------

list_parked = api.endpoint("list_parked", "GET", "/gateway/parked-messages", **parking.LIST)
replay_parked = api.endpoint("replay_parked", "POST", "/gateway/parked-messages/{consumer}/replay", **parking.REPLAY)
