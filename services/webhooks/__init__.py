"""Webhooks: partner systems hear the platform's events as they happen, signed (Standard Webhooks)."""
