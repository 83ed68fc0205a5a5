-- Patch compliance per region across all accounts: instances (not terminated) by category and the compliant % over the instances we are responsible for.
-- Categories: components/hub/instance_categories.py renders them from the tag contract.
WITH
-- @include classified_instances
SELECT
    region,
    -- @include category_counts
FROM classified
GROUP BY region
ORDER BY compliance_pct ASC NULLS LAST, region
