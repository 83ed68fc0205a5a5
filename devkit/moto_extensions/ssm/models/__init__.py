"""State and logic of the SSM operations the extension adds, one module per area.

``patching`` (managed instances, patch states), ``compliance``, ``patch_runs`` (what a patch
run reports: the tests' and demo's hook), ``inventory`` (resource data syncs, associations),
``data_sync`` (what a sync writes), ``automation`` and ``automation_requests``.
"""
