"""The local stack: each AWS piece as a real server on loopback, with the service's semantics.

Dev-only: imported by `dev.cli` and `dev.testing`; it runs the deployable handlers and agent unchanged.
"""
