"""Mock registries: four HTTP services in deliberately different API styles.

They stand in for the bank channel, the vehicle registry, the securities depository and the
business registry in tests, demos and benchmarks. ``server.build_app`` mounts all four;
``data.assets_for`` tells what a subject owns; ``faults`` injects failures.
"""
