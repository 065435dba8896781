"""Gateway: the one public front door for partners, staff and the admin console."""
