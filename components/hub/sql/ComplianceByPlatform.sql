-- Patch compliance per platform type (Linux, Windows, MacOS; Unknown when the agent did not say): instances by category, % over the instances we are responsible for.
-- Categories: components/hub/instance_categories.py renders them from the tag contract.
WITH
-- @include classified_instances
SELECT
    coalesce(nullif(platformtype, ''), 'Unknown') AS platformtype,
    -- @include category_counts
FROM classified
GROUP BY coalesce(nullif(platformtype, ''), 'Unknown')
ORDER BY instances DESC, platformtype
