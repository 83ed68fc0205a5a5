-- Instances (not terminated) their owners exempted from patching with install_patch=no (or the seed's patch_install=no), any case.
WITH
instances AS (
    -- Terminated instances never count; a missing status (older agents) counts as not terminated.
    SELECT ii.accountid, ii.region, ii.resourceid, ii.platformtype
    FROM aws_instanceinformation AS ii
    WHERE lower(coalesce(ii.instancestatus, '')) <> 'terminated'
),
patch AS (
    -- One Patch status per instance; if a node ever had two lines, NON_COMPLIANT wins (sorts last).
    SELECT cs.accountid, cs.region, cs.resourceid, max(cs.status) AS status
    FROM aws_compliancesummary AS cs
    WHERE cs.compliancetype = 'Patch'
    GROUP BY cs.accountid, cs.region, cs.resourceid
)
SELECT
    i.accountid,
    i.region,
    i.resourceid,
    min(t.key || '=' || t.value) AS exemption_tag,
    coalesce(max(p.status), 'UNREPORTED') AS patch_status
FROM aws_tag AS t
INNER JOIN instances AS i
    ON i.accountid = t.accountid
    AND i.region = t.region
    AND i.resourceid = t.resourceid
LEFT JOIN patch AS p
    ON p.accountid = i.accountid
    AND p.region = i.region
    AND p.resourceid = i.resourceid
WHERE t.key IN ('install_patch', 'patch_install')
    AND lower(trim(t.value)) = 'no'
GROUP BY i.accountid, i.region, i.resourceid
ORDER BY i.accountid, i.region, i.resourceid
