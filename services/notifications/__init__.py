"""Notifications: email and SMS that reach members once, in their language."""
