-- Instances (not terminated) patched by something else: Auto Scaling group members (the group is patched), EKS and ECS capacity, as the tag contract defines them.
WITH
-- @include classified_instances
SELECT
    c.accountid,
    c.region,
    c.resourceid,
    c.category_reason AS managed_by,
    c.environment,
    c.last_scan
FROM classified AS c
WHERE c.category = 'managed_node'
ORDER BY c.accountid, c.region, c.resourceid
