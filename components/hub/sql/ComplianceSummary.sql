-- One row for the whole organization: instances (not terminated) by category (compliant, non-compliant, never scanned, exempt, managed node); the % is over the instances we are responsible for.
-- Categories: components/hub/instance_categories.py renders them from the tag contract.
WITH
-- @include classified_instances
SELECT
    -- @include category_counts
FROM classified
