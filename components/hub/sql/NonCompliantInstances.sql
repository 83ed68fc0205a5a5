-- Drill-down: every non-compliant instance we are responsible for, with its missing and failed patches, its maintenance window and when it was last scanned.
WITH
-- @include classified_instances
,
missing AS (
    SELECT
        ci.accountid,
        ci.region,
        ci.resourceid,
        count(*) AS missing_patches,
        count_if(ci.patchstate = 'Failed') AS failed_patches,
        count_if(upper(coalesce(ci.patchseverity, '')) = 'CRITICAL') AS missing_critical,
        array_join(array_agg(ci.id ORDER BY ci.id), ', ') AS patch_ids
    FROM aws_complianceitem AS ci
    WHERE ci.compliancetype = 'Patch'
        AND ci.status = 'NON_COMPLIANT'
    GROUP BY ci.accountid, ci.region, ci.resourceid
)
SELECT
    c.accountid,
    c.region,
    c.resourceid,
    c.environment,
    coalesce(c.maintenance_window, '') AS maintenance_window,
    c.platformtype,
    c.last_scan,
    coalesce(m.missing_patches, 0) AS missing_patches,
    coalesce(m.failed_patches, 0) AS failed_patches,
    coalesce(m.missing_critical, 0) AS missing_critical,
    coalesce(m.patch_ids, '') AS patch_ids
FROM classified AS c
LEFT JOIN missing AS m
    ON m.accountid = c.accountid
    AND m.region = c.region
    AND m.resourceid = c.resourceid
WHERE c.category = 'non_compliant'
ORDER BY c.accountid, c.region, c.resourceid
