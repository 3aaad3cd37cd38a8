"""The assets domain."""
