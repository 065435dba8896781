"""The LienHiep common library: what two or more services really share.

settings, logging, event contracts, the bus, the outbox and inbox, MongoDB access,
HTTP helpers and the internal identity the gateway signs.
"""
