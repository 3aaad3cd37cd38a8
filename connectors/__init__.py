"""Registry connectors: clients for the bank, vehicle, securities and business registries.

This package depends on nothing else of ours. Connectors are entry-point plugins
(group ``enforcement.connectors``); see ``connectors.base`` for the contract.
"""
