"""The blacklist domain."""
