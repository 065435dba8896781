"""The Zalo Official Account's tokens in the store: the access token and the
refresh token rotate with every refresh (a refresh token works once), so they live
here, shared by every replica, and not in settings. Queries and writes only."""

from __future__ import annotations

from typing import TypedDict, cast

from pymongo.asynchronous.database import AsyncDatabase

ZNS_TOKENS = "zns_tokens"
OA = "oa"


class ZnsTokenDoc(TypedDict):
    _id: str
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds


class ZnsTokenStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.tokens = db[ZNS_TOKENS]

    async def get(self) -> ZnsTokenDoc | None:
        return cast(ZnsTokenDoc | None, await self.tokens.find_one({"_id": OA}))

    async def save(self, access_token: str, refresh_token: str, expires_at: float) -> None:
        await self.tokens.update_one(
            {"_id": OA},
            {"$set": {"access_token": access_token, "refresh_token": refresh_token, "expires_at": expires_at}},
            upsert=True,
        )
