"""Membership: the federation's organisations, members and membership terms."""
