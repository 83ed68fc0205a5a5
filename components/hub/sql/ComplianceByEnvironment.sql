-- Patch compliance per environment tag (Dev, Test, Prod; missing or unknown values are Default): instances by category, % over the instances we are responsible for.
-- Categories: components/hub/instance_categories.py renders them from the tag contract.
WITH
-- @include classified_instances
SELECT
    environment,
    -- @include category_counts
FROM classified
GROUP BY environment
ORDER BY environment
