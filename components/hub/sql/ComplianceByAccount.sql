-- Patch compliance per account: instances (not terminated) by category and the compliant % over the instances we are responsible for (exempt and managed nodes excluded).
-- Categories: components/hub/instance_categories.py renders them from the tag contract.
WITH
-- @include classified_instances
SELECT
    accountid,
    -- @include category_counts
FROM classified
GROUP BY accountid
ORDER BY compliance_pct ASC NULLS LAST, accountid
