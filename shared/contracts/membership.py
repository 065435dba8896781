"""Events the membership service publishes."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventData, contract
from shared.contracts.types import MemberContact

__all__ = [
    "DuesPayment",
    "MemberApplied",
    "MemberApproved",
    "MemberErased",
    "MemberUpdated",
    "MembershipExpiring",
    "MembershipLapsed",
    "MembershipRenewed",
    "OrganizationChanged",
    "OrganizationCreated",
    "OrganizationUpdated",
]


@contract("member.applied")
class MemberApplied(MemberContact):
    """A person applied to join; staff of the association should review it."""

    reviewer_emails: list[str] = Field(
        default_factory=list, description="Contact addresses of the organisations applied to."
    )


@contract("member.approved")
class MemberApproved(MemberContact):
    """A member became active: welcome them."""


@contract("member.updated")
class MemberUpdated(MemberContact):
    """A member's profile, contact data, consents or status changed."""

    changed_fields: list[str] = Field(
        default_factory=list,
        description="Which fields changed (e.g. email, status); empty for a member first entered by an import.",
    )


@contract("member.erased")
class MemberErased(EventData):
    """A member's personal data was erased: remove every copy of it."""

    member_id: str


class DuesPayment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    amount_vnd: int
    paid_on: date
    receipt_number: str | None = None


@contract("membership.renewed")
class MembershipRenewed(MemberContact):
    """A membership term was extended (dues may have been paid)."""

    term_start: date
    term_end: date
    dues: DuesPayment | None = None


@contract("membership.expiring")
class MembershipExpiring(MemberContact):
    """A membership ends soon (announced 30 and 7 days before, once each)."""

    term_end: date
    days_left: int


@contract("membership.lapsed")
class MembershipLapsed(MemberContact):
    """A membership passed its end date without renewal."""

    term_end: date


class OrganizationChanged(EventData):
    organization_id: str
    code: str
    name: str
    kind: str = Field(description="federation, association, centre, branch or enterprise")
    parent_id: str | None = None
    status: str = "active"
    contact_email: str | None = None
    contact_phone: str | None = None


@contract("organization.created")
class OrganizationCreated(OrganizationChanged):
    """An organisation joined the tree."""


@contract("organization.updated")
class OrganizationUpdated(OrganizationChanged):
    """An organisation changed (name, contacts, status, or place in the tree)."""
