"""Shared by every import engine: folder layout and manifest, content version, data contract, the asset
registry interface, the publish flow (sweep, claim, register, current) and verification."""
