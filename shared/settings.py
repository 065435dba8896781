"""Settings from environment variables, one table for the whole platform.

Every service reads the same `Settings`; each uses the part it needs. The README's
variables table is generated from this class (`python -m shared.settings`), so the
two never drift apart.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.tokens import Signer, derive_key

DEV_SECRET = "dev-only-internal-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    mongo_url: str = Field(
        "mongodb://127.0.0.1:27017",
        description="MongoDB URL. `make run` and the tests start the embedded store when it is unset.",
    )
    mongo_db_prefix: str = Field(
        "lienhiep", description="Prefix of each service's database name (`<prefix>_membership`)."
    )
    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", description="RabbitMQ URL (vhost included).")
    bus_exchange: str = Field("lienhiep.events", description="Durable topic exchange every event goes through.")
    bus_queue_prefix: str = Field("", description="Prefix of every queue name; lets test runs share a broker.")
    bus_prefetch: int = Field(32, ge=1, le=1000, description="Unacknowledged messages a consumer holds at once.")
    bus_max_attempts: int = Field(
        6, ge=1, description="Attempts before a failing message is parked in the dead-letter queue."
    )
    bus_retry_delays: str = Field(
        "1,5,30,120,600",
        description="Seconds to wait before each retry, comma-separated; the last repeats.",
    )
    bus_archive_max_events: int = Field(
        100_000, ge=1, description="Most events kept in the event archive queue (oldest dropped first)."
    )
    bus_archive_hours: float = Field(168.0, gt=0, description="Hours an event stays in the event archive queue.")
    bus_queue_type: Literal["auto", "quorum", "classic"] = Field(
        "auto",
        description="Queue type: `quorum` (replicated in a RabbitMQ cluster), `classic`, or `auto` (quorum "
        "when the broker supports it, RabbitMQ 3.8+). Existing queues keep the type they were made with.",
    )
    bus_delivery_limit: int = Field(
        20,
        ge=1,
        description="Quorum queues: redeliveries of one message (consumer crashes) before the broker parks it.",
    )
    outbox_poll_seconds: float = Field(
        30.0,
        gt=0,
        description=(
            "How often the outbox relay looks for events nobody told it about (left by a process that died between"
            " its write and the publish); every outbox write wakes it at once."
        ),
    )

    smtp_host: str = Field(
        "127.0.0.1", description="SMTP server for email. `make run` starts a local catcher when unset."
    )
    smtp_port: int = Field(1025, description="SMTP port.")
    smtp_from: str = Field("LienHiep <no-reply@lienhiep.local>", description="From address of every email.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str = Field("", description="SMTP login user (empty: no login).")
    smtp_password: str = Field("", description="SMTP login password.")
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="SMTP timeout.")

    gateway_host: str = Field("127.0.0.1", description="Address the gateway listens on.")
    gateway_port: int = Field(8080, description="Gateway port: the public front door.")
    membership_port: int = Field(8081, description="Membership service port (internal).")
    events_port: int = Field(8082, description="Events service port (internal).")
    notifications_port: int = Field(8083, description="Notifications service port (internal).")
    contests_port: int = Field(8084, description="Contests service port (internal).")
    webhooks_port: int = Field(8085, description="Webhooks service port (internal).")
    service_host: str = Field("127.0.0.1", description="Address the internal services listen on.")
    membership_url: str = Field(
        "",
        description="Membership base URL for the gateway (default: service_host and membership_port); "
        "several replicas comma-separated, e.g. `http://a:8081,http://b:8091`.",
    )
    events_url: str = Field(
        "", description="Events base URL(s) for the gateway, comma-separated (default from events_port)."
    )
    notifications_url: str = Field(
        "", description="Notifications base URL(s) for the gateway, comma-separated (default from notifications_port)."
    )
    contests_url: str = Field(
        "", description="Contests base URL(s) for the gateway, comma-separated (default from contests_port)."
    )
    webhooks_url: str = Field(
        "", description="Webhooks base URL(s) for the gateway, comma-separated (default from webhooks_port)."
    )

    internal_identity_secret: str = Field(
        DEV_SECRET,
        description="The platform's one secret (at least 32 random bytes): the gateway signs forwarded identities "
        "with a key derived from it, and every token and signed link with another. Services refuse to "
        "start with the default unless DEVELOPMENT_MODE is true.",
    )
    development_mode: bool = Field(
        False, description="Accept the development secret (only `make run` and the tests set this)."
    )
    max_body_bytes: int = Field(1_048_576, description="Largest request body a service accepts (413 above).")
    log_level: str = Field("INFO", description="Log level.")
    federation_name: str = Field(
        "Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh",
        description="The federation's name in Vietnamese, as messages sign it.",
    )
    federation_name_en: str = Field(
        "the Provincial Union of Science and Technology Associations", description="The federation's name in English."
    )
    public_base_url: str = Field("http://127.0.0.1:8080", description="Base of links put in emails.")

    # --- membership -------------------------------------------------------------
    membership_term_years: int = Field(1, ge=1, le=10, description="Length of a membership term, in years.")
    membership_import_max_bytes: int = Field(
        52_428_800, description="Largest member or organisation file an import accepts (413 above)."
    )
    membership_import_batch_rows: int = Field(
        1000, ge=1, le=10_000, description="Rows a member import reads, checks and writes at a time."
    )
    membership_expiry_sweep_seconds: float = Field(
        3600.0, gt=0, description="How often membership expiry notices and lapses are looked for."
    )
    membership_scheduler_poll_seconds: float = Field(
        15.0, gt=0, description="How often each replica looks for due membership work."
    )

    # --- events -----------------------------------------------------------------
    events_reminder_hours: str = Field(
        "24,2",
        description="Hours before an event's first session at which each confirmed registrant is reminded, comma-separated.",
    )
    events_scheduler_poll_seconds: float = Field(
        5.0,
        gt=0,
        description="How often the events service looks for due reminders and for seats left free while people wait.",
    )
    events_certificate_font: str = Field(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        description="Unicode TrueType font for training certificates (Vietnamese needs one; Debian: fonts-dejavu-core).",
    )

    # --- contests ---------------------------------------------------------------
    contests_pdf_max_bytes: int = Field(
        20_971_520, ge=1024, description="Largest PDF an entry may attach (its type is read from its content)."
    )
    contests_image_max_bytes: int = Field(
        10_485_760, ge=1024, description="Largest image (PNG, JPEG, WebP, TIFF) an entry may attach."
    )
    contests_drawing_max_bytes: int = Field(
        26_214_400, ge=1024, description="Largest technical drawing (DWG, DXF) an entry may attach."
    )
    contests_entry_max_documents: int = Field(20, ge=1, le=200, description="Most documents one entry may attach.")
    contests_font: str = Field(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        description="Unicode TrueType font for award decisions and certificates (Debian: fonts-dejavu-core).",
    )

    # --- notifications ----------------------------------------------------------
    sms_provider: str = Field(
        "http",
        description="SMS provider: `http` (generic JSON API at SMS_PROVIDER_URL) or `esms` (eSMS.vn brandname API).",
    )
    sms_provider_url: str = Field(
        "", description="URL the generic SMS provider takes messages at (empty: SMS is not sent, deliveries wait)."
    )
    sms_provider_token: str = Field("", description="Bearer token for the generic SMS provider.")
    sms_sender: str = Field("LIENHIEP", description="Sender name (brandname) of every SMS.")
    esms_url: str = Field(
        "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/",
        description="eSMS.vn send endpoint.",
    )
    esms_api_key: str = Field("", description="eSMS.vn ApiKey.")
    esms_secret_key: str = Field("", description="eSMS.vn SecretKey.")
    esms_sms_type: str = Field("2", description="eSMS.vn SmsType (2: brandname customer care).")
    zns_templates: str = Field(
        "",
        description="Zalo ZNS template ids per notification and language, as JSON "
        '(`{"registration_confirmed": {"vi": "301001", "en": "301002"}}`); empty: no ZNS, SMS as before. '
        "A service message with a template goes by ZNS first, by SMS if ZNS refuses it.",
    )
    zns_app_id: str = Field("", description="Zalo app id of the Official Account sending ZNS.")
    zns_app_secret: str = Field("", description="Zalo app secret key (refreshes the OA access token).")
    zns_refresh_token: str = Field(
        "",
        description="The OA's first refresh token; afterwards the tokens are rotated and kept in the store, not here.",
    )
    zns_api_url: str = Field("https://business.openapi.zalo.me", description="ZNS API base (send: /message/template).")
    zns_oauth_url: str = Field(
        "https://oauth.zaloapp.com/v4/oa/access_token", description="Zalo OAuth endpoint that refreshes OA tokens."
    )
    zns_rate_per_second: float = Field(20.0, gt=0, description="Most ZNS messages per second handed to Zalo.")
    sms_unicode: bool = Field(
        False,
        description="Send SMS with Vietnamese diacritics (UCS-2, 70 characters a segment) instead of without (GSM-7, 160).",
    )
    sms_max_segments: int = Field(
        3,
        ge=1,
        le=10,
        description="Most segments an SMS template may render to; longer templates are refused at save time.",
    )
    sms_announcement_tag: str = Field("QC", description="Tag every announcement SMS starts with (advertising rules).")
    sms_opt_out_text: str = Field(
        "Tu choi: tra loi TC", description="Opt-out instructions every announcement SMS ends with."
    )
    sms_announcements_per_day: int = Field(
        3, ge=1, description="Most announcement SMS one number receives in 24 hours."
    )
    sms_quiet_start_hour: int = Field(
        22, ge=0, le=23, description="Announcement SMS are held from this hour (Asia/Ho_Chi_Minh)…"
    )
    sms_quiet_end_hour: int = Field(7, ge=0, le=23, description="…until this hour.")
    sms_rate_per_second: float = Field(100.0, gt=0, description="Most SMS per second handed to the provider.")
    email_rate_per_second: float = Field(100.0, gt=0, description="Most emails per second handed to the SMTP server.")
    smtp_connections: int = Field(4, ge=1, le=64, description="SMTP connections kept open and reused.")
    notify_max_attempts: int = Field(
        8, ge=1, description="Attempts at one delivery before it goes to the dead-letter list."
    )
    notify_retry_seconds: str = Field(
        "30,120,600,1800,3600", description="Delay before each retry of a delivery, comma-separated; the last repeats."
    )
    notify_batch: int = Field(200, ge=1, le=2000, description="Deliveries one dispatcher claims at a time.")
    notify_unknown_outcome_seconds: float = Field(
        900.0,
        gt=0,
        description="Wait before resending an email whose server never answered after taking it (same Message-ID).",
    )
    notify_links_version: int = Field(
        0,
        ge=0,
        description="Version of the signed links notifications hands out (unsubscribe, provider receipts): "
        "raise it to revoke every link issued before.",
    )

    # --- staff console ----------------------------------------------------------
    console_api_url: str = Field(
        "",
        description="Where the console (served by the gateway at /console/) calls the API (default: the gateway's "
        "own address and port).",
    )

    # --- gateway ----------------------------------------------------------------
    lienhiep_bootstrap_admin_password: str = Field(
        "",
        description="Password of the `admin` staff account created on first start when no account exists "
        "(empty: a generated one is printed once to the gateway's output).",
    )
    gateway_token_ttl_seconds: int = Field(900, ge=60, le=86_400, description="Lifetime of a staff login token.")
    gateway_session_max_seconds: int = Field(
        43_200,
        ge=60,
        le=30 * 86_400,
        description="Longest a staff login lasts through refreshes (POST /auth/refresh), counted from the password "
        "being typed.",
    )
    gateway_refresh_grace_seconds: int = Field(
        30,
        ge=0,
        le=300,
        description="How long a refreshed token keeps working, so requests already sent with it finish.",
    )
    gateway_rate_per_second: float = Field(
        20.0,
        gt=0,
        description="Requests per second each API key, staff login and client address may make (token bucket refill), "
        "across every gateway replica together.",
    )
    gateway_rate_burst: int = Field(
        100, ge=1, description="Requests a caller may make at once before the rate limit applies (bucket size)."
    )
    gateway_login_rate_per_minute: float = Field(
        10.0, gt=0, description="Login attempts per minute from one client address."
    )
    gateway_login_burst: int = Field(5, ge=1, description="Login attempts one client address may make at once.")
    gateway_lockout_attempts: int = Field(5, ge=1, description="Failed logins in a row that lock a staff account.")
    gateway_lockout_seconds: int = Field(900, ge=1, description="How long a locked staff account stays locked.")
    gateway_cors_origins: str = Field(
        "", description="Browser origins allowed to call the API (comma-separated; empty: none)."
    )
    gateway_body_bytes: int = Field(
        262_144, ge=1024, description="Largest JSON request body the gateway lets through (413 above)."
    )
    gateway_import_body_bytes: int = Field(
        52_428_800, ge=1024, description="Largest file upload (imports) the gateway streams through (413 above)."
    )
    gateway_upstream_timeout_seconds: float = Field(
        10.0, gt=0, description="How long the gateway waits for a service before answering 504."
    )
    gateway_import_timeout_seconds: float = Field(
        300.0, gt=0, description="How long the gateway waits for a service on file uploads and downloads."
    )
    gateway_breaker_failures: int = Field(
        5,
        ge=1,
        description="Failures in a row that say a service replica is unhealthy (no connection, timeout, 502/503; "
        "never a 4xx or one route's 500) after which the gateway stops calling it (503 at once if no replica is left).",
    )
    gateway_breaker_reset_seconds: float = Field(
        10.0,
        gt=0,
        description="Longest an open circuit waits before letting a small share of requests through; it closes "
        "sooner, as soon as the replica's readiness check passes.",
    )
    gateway_probe_seconds: float = Field(
        10.0,
        gt=0,
        description="How often the gateway checks each service replica's readiness (/readyz, a store round trip); a "
        "replica failing it, or failing requests (connection errors, timeouts, 502/503), is taken out of rotation and "
        "checked four times as often until it passes.",
    )
    gateway_header_timeout_seconds: float = Field(
        15.0,
        gt=0,
        le=300,
        description="Seconds a client has to send a request's headers; slower clients are cut off (an idle "
        "keep-alive connection also closes after this long).",
    )
    gateway_body_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="Seconds a client has to send a JSON body, and the longest a file upload may pause; "
        "slower clients get 408.",
    )
    gateway_metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Internal port where the gateway serves /metrics to scrapers without credentials (0: none). "
        "On the public port /metrics needs an administrator or a key with the `metrics:read` scope.",
    )
    gateway_metrics_host: str = Field(
        "127.0.0.1", description="Address the gateway's internal metrics port listens on."
    )
    gateway_argon2_time_cost: int = Field(
        3, ge=1, description="Argon2id passes for staff passwords (RFC 9106 second recommendation: 3)."
    )
    gateway_argon2_memory_kib: int = Field(
        65_536, ge=1024, description="Argon2id memory for staff passwords, in KiB (64 MiB)."
    )
    gateway_trusted_proxies: str = Field(
        "", description="Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated)."
    )

    # --- webhooks -----------------------------------------------------------------
    webhooks_allow_hosts: str = Field(
        "",
        description="Hosts and address ranges (CIDR) webhook URLs may reach although they are not public addresses, "
        "comma-separated, e.g. `127.0.0.0/8,::1/128,receiver.test` (tests and `make run` only; empty: public "
        "addresses only, as production must be).",
    )
    webhooks_timeout_seconds: float = Field(
        15.0, gt=0, le=60, description="How long one webhook delivery may take before it counts as failed."
    )
    webhooks_retry_seconds: str = Field(
        "5,300,1800,7200,18000,36000",
        description="Delay before each retry of a webhook delivery, comma-separated; the last repeats.",
    )
    webhooks_retry_hours: float = Field(
        72.0,
        gt=0,
        description="A webhook delivery is given up when its next try would come later than this after its first.",
    )
    webhooks_disable_after_hours: float = Field(
        120.0,
        gt=0,
        description="An endpoint whose deliveries have all failed for this long is disabled (its contact is told).",
    )
    webhooks_concurrency: int = Field(32, ge=1, le=1000, description="Webhook deliveries one replica sends at once.")
    webhooks_endpoint_concurrency: int = Field(
        4,
        ge=1,
        le=100,
        description="Deliveries one replica sends at once to any one endpoint (a slow one cannot take every slot).",
    )
    webhooks_poll_seconds: float = Field(
        1.0, gt=0, description="How often each replica looks for webhook deliveries whose retry is due."
    )
    webhooks_keep_days: int = Field(
        30, ge=1, le=3650, description="Days the webhook delivery log (bodies, attempts, answers) is kept."
    )

    def upstream(self, service: str) -> str:
        """Base URL of an internal service, as the gateway calls it."""
        explicit = getattr(self, f"{service}_url")
        if explicit:
            return explicit.rstrip("/")
        return f"http://{self.service_host}:{getattr(self, f'{service}_port')}"

    def database(self, service: str) -> str:
        return f"{self.mongo_db_prefix}_{service}"

    def derived_secret(self, purpose: str) -> bytes:
        """A key for one purpose (signed links, tokens), derived from the internal
        secret so each purpose has its own key and deployments set one secret."""
        return derive_key(self.internal_identity_secret, purpose)

    def signer(self, purpose: str, mac_bytes: int = 32) -> Signer:
        """The signer of one purpose's tokens (shared/tokens.py)."""
        return Signer(self.internal_identity_secret, purpose, mac_bytes=mac_bytes)

    def check_secret(self) -> None:
        """Refuse to run with the development secret, or any short one, outside
        development mode: every signed identity, token and link hangs on it."""
        if self.development_mode:
            return
        if self.internal_identity_secret == DEV_SECRET or len(self.internal_identity_secret.encode()) < 32:
            raise SystemExit(
                "INTERNAL_IDENTITY_SECRET must be set to a random value of at least 32 bytes "
                "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`); "
                "the development default is accepted only with DEVELOPMENT_MODE=true"
            )

    @property
    def retry_delays(self) -> list[float]:
        return [float(x) for x in self.bus_retry_delays.split(",") if x.strip()]

    @property
    def webhooks_retry_delays(self) -> list[float]:
        return [float(x) for x in self.webhooks_retry_seconds.split(",") if x.strip()]


TABLE_BEGIN = "<!-- settings table: generated by `make docs` -->"
TABLE_END = "<!-- end of settings table -->"


def variables_table() -> str:
    """The Markdown table of every variable, for the README."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = f"`{default}`" if default not in ("", None) else "(empty)"
        rows.append(f"| `{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def rewrite_readme(path: str) -> None:
    """Replace the table between the markers in the README with the current one."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    before, rest = text.split(TABLE_BEGIN, 1)
    _, after = rest.split(TABLE_END, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{before}{TABLE_BEGIN}\n{variables_table()}\n{TABLE_END}{after}")


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--rewrite":
        rewrite_readme(sys.argv[2])
    else:
        print(variables_table())
