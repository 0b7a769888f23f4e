"""The site service: one process per site (`plantagent serve`) serving every enrolled
person over a local Unix socket, and the clients that talk to it (see README.md)."""
