"""The auction domain."""
