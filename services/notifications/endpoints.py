"""The notifications service's endpoint declarations and their request/response
models: the one module of the service the gateway imports (to route, validate and
document requests). Nothing here reaches the service's internals (no store, no
templates engine): handlers live in api.py, decisions in the use-case modules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared import parking
from shared.api import Api

api = Api("notifications")
Channel = Literal["email", "sms"]
Language = Literal["vi", "en"]
Status = Literal[
    "queued", "sending", "sent", "delivered", "undelivered", "failed", "dead", "skipped", "paused", "cancelled"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- routing table -----------------------------------------------------------------


class RouteOut(BaseModel):
    event_type: str
    notification: str
    channels: list[Channel]
    category: Literal["service", "announcement", "staff"]
    audience: str
    description: str


class RouteList(BaseModel):
    items: list[RouteOut]


list_routes = api.endpoint(
    "list_routes",
    "GET",
    "/notifications/routes",
    summary="Which notifications each event causes, on which channels",
    response=RouteList,
    admin_only=True,
)


# --- templates ---------------------------------------------------------------------


class TemplateParts(Strict):
    subject: str | None = Field(None, max_length=500)
    text: str | None = Field(None, max_length=20_000)
    html: str | None = Field(None, max_length=100_000)


class TemplateOut(BaseModel):
    notification: str
    channel: Channel
    language: Language
    version: int = Field(description="0: the default that ships with the service")
    parts: TemplateParts
    updated_at: datetime | None = None
    updated_by: str | None = None


class TemplateSummary(BaseModel):
    notification: str
    channel: Channel
    language: Language
    version: int
    edited: bool


class TemplateList(BaseModel):
    items: list[TemplateSummary]


class TemplateIn(Strict):
    parts: TemplateParts
    expected_version: int | None = Field(None, ge=0, description="Refuse the save (409) if the current version differs")


class TemplateVersions(BaseModel):
    items: list[TemplateOut]


class PreviewIn(Strict):
    parts: TemplateParts | None = Field(None, description="A draft to preview instead of the saved template")
    sample: dict[str, Any] = Field(default_factory=dict, description="Values overriding the sample data")


class PreviewOut(BaseModel):
    subject: str | None = None
    text: str
    html: str | None = None
    segments: int | None = None
    encoding: str | None = None


list_templates = api.endpoint(
    "list_templates",
    "GET",
    "/notifications/templates",
    summary="Every template, with its active version",
    response=TemplateList,
    admin_only=True,
)
get_template = api.endpoint(
    "get_template",
    "GET",
    "/notifications/templates/{notification}/{channel}/{language}",
    summary="A template's active version",
    response=TemplateOut,
    admin_only=True,
    errors=(404,),
)
put_template = api.endpoint(
    "put_template",
    "PUT",
    "/notifications/templates/{notification}/{channel}/{language}",
    summary="Save a new version of a template (checked with sample data first)",
    body=TemplateIn,
    response=TemplateOut,
    admin_only=True,
    errors=(404, 409),
)
template_versions = api.endpoint(
    "template_versions",
    "GET",
    "/notifications/templates/{notification}/{channel}/{language}/versions",
    summary="Every saved version of a template, newest first",
    response=TemplateVersions,
    admin_only=True,
    errors=(404,),
)
preview_template = api.endpoint(
    "preview_template",
    "POST",
    "/notifications/templates/{notification}/{channel}/{language}/preview",
    summary="Render a template (or a draft) with sample data",
    body=PreviewIn,
    response=PreviewOut,
    admin_only=True,
    errors=(404,),
)


# --- delivery log and dead letters ---------------------------------------------------


class DeliveryQuery(Strict):
    member_id: str | None = Field(None, max_length=64)
    recipient_id: str | None = Field(None, max_length=64)
    event_id: str | None = Field(None, max_length=64, description="The source event id")
    campaign_id: str | None = Field(None, max_length=64)
    status: Status | None = None
    limit: int = Field(50, ge=1, le=500)


class Delivery(BaseModel):
    key: str
    channel: Literal["email", "sms", "zns"] = Field(description="zns: Zalo first; an SMS if Zalo refuses it")
    template: str
    category: str | None = None
    language: str | None = None
    recipient_id: str | None = None
    member_id: str | None = None
    campaign_id: str | None = None
    source_event_id: str
    source_event_type: str
    status: Status
    reason: str | None = Field(
        None, description="Why it was skipped (no-address, no-consent, opted-out, suppressed, erased, zns-sent)"
    )
    held: str | None = Field(None, description="Why it waits (quiet-hours, daily-limit, no-provider, unknown-outcome)")
    attempts: int
    last_error: str | None = None
    segments: int | None = None
    encoding: str | None = None
    provider_id: str | None = None
    zns_refused: str | None = Field(None, description="Why Zalo did not take it (it went as an SMS instead)")
    content: dict[str, Any] | None = Field(None, description="The message as sent; absent for erased people")
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None


class DeliveryList(BaseModel):
    items: list[Delivery]


class ParkedEvent(BaseModel):
    handler: str
    message_id: str | None
    type: str | None
    attempts: int
    last_error: str | None


class DeadLetters(BaseModel):
    deliveries: list[Delivery] = Field(description="Deliveries that failed every attempt")
    events: list[ParkedEvent] = Field(description="Events a handler could not process (parked on the bus)")


class ReplayIn(Strict):
    handler: str = Field(max_length=64, description="The handler whose parked events go back to its queue")


class Replayed(BaseModel):
    replayed: int


list_deliveries = api.endpoint(
    "list_deliveries",
    "GET",
    "/notifications/deliveries",
    summary="The delivery log, newest first: by recipient, event, campaign or status",
    query=DeliveryQuery,
    response=DeliveryList,
    admin_only=True,
)
get_delivery = api.endpoint(
    "get_delivery",
    "GET",
    "/notifications/deliveries/{key}",
    summary="One delivery, with the message as sent",
    response=Delivery,
    admin_only=True,
    errors=(404,),
)
replay_delivery = api.endpoint(
    "replay_delivery",
    "POST",
    "/notifications/deliveries/{key}/replay",
    summary="Send a dead-lettered or failed delivery again",
    response=Delivery,
    admin_only=True,
    errors=(404, 409),
)
dead_letters = api.endpoint(
    "dead_letters",
    "GET",
    "/notifications/dead-letters",
    summary="Dead-lettered deliveries and parked events",
    response=DeadLetters,
    admin_only=True,
)
replay_events = api.endpoint(
    "replay_events",
    "POST",
    "/notifications/dead-letters/replay",
    summary="Put a handler's parked events back to work",
    body=ReplayIn,
    response=Replayed,
    admin_only=True,
    errors=(404,),
)
list_parked = api.endpoint("list_parked", "GET", "/notifications/parked-messages", **parking.LIST)
replay_parked = api.endpoint(
    "replay_parked", "POST", "/notifications/parked-messages/{consumer}/replay", **parking.REPLAY
)


# --- preferences and unsubscribe -------------------------------------------------------


class ChannelChoice(Strict):
    email: bool | None = None
    sms: bool | None = None


class Preferences(Strict):
    service: ChannelChoice = ChannelChoice()
    announcement: ChannelChoice = ChannelChoice()
    zalo: bool | None = Field(None, description="Service messages by Zalo (ZNS) before SMS, where a template exists")


class PreferencesOut(BaseModel):
    member_id: str
    service: dict[Channel, bool]
    announcement: dict[Channel, bool]
    zalo: bool = True


class TokenQuery(Strict):
    token: str = Field(min_length=10, max_length=600)


class Unsubscribed(BaseModel):
    channel: Channel
    category: str
    message: str


get_preferences = api.endpoint(
    "get_preferences",
    "GET",
    "/notifications/preferences/{member_id}",
    summary="A member's choices per channel and category",
    response=PreferencesOut,
    admin_only=True,
)
put_preferences = api.endpoint(
    "put_preferences",
    "PUT",
    "/notifications/preferences/{member_id}",
    summary="Change a member's choices (service messages may move channel but not be turned off)",
    body=Preferences,
    response=PreferencesOut,
    admin_only=True,
    errors=(422,),
)
unsubscribe_page = api.endpoint(
    "unsubscribe_page",
    "GET",
    "/notifications/unsubscribe",
    summary="The page an unsubscribe link opens: it asks to "
    "confirm (a GET changes nothing, since mail scanners follow links)",
    query=TokenQuery,
    public=True,
    response_media={"text/html": {"type": "string"}},
)
unsubscribe = api.endpoint(
    "unsubscribe",
    "POST",
    "/notifications/unsubscribe",
    summary="One-click unsubscribe from announcements (RFC 8058; the link in every announcement)",
    query=TokenQuery,
    response=Unsubscribed,
    public=True,
    errors=(400,),
)


# --- delivery receipts -------------------------------------------------------------------


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # providers add fields of their own
    request_id: str | None = Field(None, max_length=300)
    status: Literal["delivered", "failed"] | None = None
    error: str | None = Field(None, max_length=500)
    RequestId: str | None = Field(None, max_length=300, description="eSMS.vn callback shape")
    SendStatus: int | str | None = Field(None, description="eSMS.vn: 5 delivered, other final codes failed")

    @model_validator(mode="after")
    def one_shape(self) -> ReceiptIn:
        if not (self.request_id and self.status) and not (self.RequestId and self.SendStatus is not None):
            raise ValueError("send request_id and status (or eSMS's RequestId and SendStatus)")
        return self


class ReceiptOut(BaseModel):
    delivery_key: str
    status: str


delivery_receipt = api.endpoint(
    "delivery_receipt",
    "POST",
    "/notifications/receipts/{provider}",
    summary="Delivery receipt callback of an SMS provider (the URL carries a signed token)",
    query=TokenQuery,
    body=ReceiptIn,
    response=ReceiptOut,
    public=True,
    errors=(400, 404),
)


class ZnsReceiptIn(BaseModel):
    """A Zalo Official Account webhook event; `user_received_message` says a ZNS
    message reached the phone."""

    model_config = ConfigDict(extra="allow")  # Zalo adds fields of its own
    event_name: str = Field(max_length=100)
    message: dict[str, Any] | None = Field(None, description="Carries `tracking_id` (our delivery key)")


zns_receipt = api.endpoint(
    "zns_receipt",
    "POST",
    "/notifications/zns/receipts",
    summary="Zalo ZNS delivery receipts (the Official Account's webhook; the URL carries a signed token)",
    query=TokenQuery,
    body=ZnsReceiptIn,
    response=ReceiptOut,
    public=True,
    errors=(400, 404),
)


# --- suppressions ------------------------------------------------------------------------


class Suppression(BaseModel):
    address: str
    channel: Channel
    reason: str
    at: datetime


class SuppressionList(BaseModel):
    items: list[Suppression]


class LimitQuery(Strict):
    limit: int = Field(100, ge=1, le=1000)


list_suppressions = api.endpoint(
    "list_suppressions",
    "GET",
    "/notifications/suppressions",
    summary="Addresses that bounced for good",
    query=LimitQuery,
    response=SuppressionList,
    admin_only=True,
)
delete_suppression = api.endpoint(
    "delete_suppression",
    "DELETE",
    "/notifications/suppressions/{address}",
    summary="Allow sending to an address again",
    status=204,
    admin_only=True,
    errors=(404,),
)


# --- campaigns ----------------------------------------------------------------------------


class Segment(Strict):
    kind: Literal["organization", "expertise", "event", "consented"] = Field(
        description="organization: members of it and its subtree; expertise; event: its registrants; "
        "consented: everyone who consented to the campaign's channels"
    )
    value: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The organisation id, expertise or event id (not for `consented`)",
    )

    @model_validator(mode="after")
    def value_needed(self) -> Segment:
        if self.kind != "consented" and not self.value:
            raise ValueError(f"a {self.kind} segment needs a value")
        return self


CampaignChannel = Literal["email", "sms"]


class CampaignIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    segment: Segment
    channels: list[CampaignChannel] = Field(min_length=1, max_length=2)
    language: Language = "vi"
    subject: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1, max_length=20_000)
    sms_text: str | None = Field(None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def content_for_each_channel(self) -> CampaignIn:
        if "email" in self.channels and not (self.subject and self.body):
            raise ValueError("an email campaign needs a subject and a body")
        if "sms" in self.channels and not self.sms_text:
            raise ValueError("an SMS campaign needs sms_text")
        return self


class CampaignOut(BaseModel):
    id: str
    name: str
    segment: Segment
    channels: list[CampaignChannel]
    language: Language
    subject: str | None
    body: str | None
    sms_text: str | None
    status: Literal["running", "paused", "cancelled"]
    planning_done: bool
    progress: dict[str, int]
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class CampaignList(BaseModel):
    items: list[CampaignOut]


create_campaign = api.endpoint(
    "create_campaign",
    "POST",
    "/notifications/campaigns",
    summary="Start an announcement to a segment (runs in the background)",
    description="Association managers may address their own organisation and its subtree only.",
    body=CampaignIn,
    response=CampaignOut,
    status=201,
    errors=(403, 422),
)
list_campaigns = api.endpoint(
    "list_campaigns",
    "GET",
    "/notifications/campaigns",
    summary="Campaigns, newest first",
    query=LimitQuery,
    response=CampaignList,
)
get_campaign = api.endpoint(
    "get_campaign",
    "GET",
    "/notifications/campaigns/{campaign_id}",
    summary="A campaign and its progress",
    response=CampaignOut,
    errors=(404,),
)
pause_campaign = api.endpoint(
    "pause_campaign",
    "POST",
    "/notifications/campaigns/{campaign_id}/pause",
    summary="Pause a campaign: nothing more is sent until resumed",
    response=CampaignOut,
    errors=(404, 409),
)
resume_campaign = api.endpoint(
    "resume_campaign",
    "POST",
    "/notifications/campaigns/{campaign_id}/resume",
    summary="Resume a paused campaign where it stopped",
    response=CampaignOut,
    errors=(404, 409),
)
cancel_campaign = api.endpoint(
    "cancel_campaign",
    "POST",
    "/notifications/campaigns/{campaign_id}/cancel",
    summary="Cancel a campaign: what is unsent is dropped",
    response=CampaignOut,
    errors=(404, 409),
)
