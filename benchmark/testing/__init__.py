"""Helpers for MuseBench's own tests and load-test scripts (not needed to run benchmarks).

:mod:`musebench.testing.postgres` starts a throwaway PostgreSQL server on a loopback port.
"""
