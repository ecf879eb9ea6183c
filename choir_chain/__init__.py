"""Choir chain: the off-chain side of the Choir protocol (pricing model, chain client, devnet, services)."""

__version__ = "0.1.0"
