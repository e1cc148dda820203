"""A ZStack Cloud REST API simulator for ImageStore backup storage (standard library only).

It speaks real HTTP and follows docs/zstack-protocol.md (the protocol notes): sessions, the query
syntax, async jobs, plain-text REST-layer errors and JSON ErrorCodes. Start it with
``python -m simulator --port 8080`` or in-process with ``simulator.server.SimulatorServer``.
See README.md in this directory for the options and the test-only ``/_sim/`` control endpoints.
"""
