"""Ports to outside systems: the credit bureau, and later the CA, payment and image platforms.

Each port is a ``Protocol`` (what the use cases call), an HTTP client for the
real system and a deterministic simulator for local runs and tests. Ports take
their configuration as constructor arguments: they read no environment
variable and no secret themselves, so a use case or the composition root
decides which implementation runs. Deployed code speaks HTTP with ``urllib3``
(it ships with botocore in Lambda) or the standard library, never ``requests``.
"""
