"""Org-wide compliance reporting: the named Athena queries run on Athena (real use) or on DuckDB
over a local copy of the resource data sync bucket (tests, demos, air-gapped review), plus a
synthetic fleet generator whose known figures the tests check every query against.
"""
