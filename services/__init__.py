"""The four LienHiep services: membership, events, notifications, gateway."""
