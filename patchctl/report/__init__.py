"""Org-wide compliance reporting: the named Athena queries run on Athena (real use) or on DuckDB
over a local copy of the resource data sync bucket (tests, demos, air-gapped review). The
synthetic fleet the tests check every query against is the dev kit's (``devkit.fleet``).
"""
