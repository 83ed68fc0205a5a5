-- Instances (not terminated) missing a Critical patch, oldest first: days since the node last installed any patch (never: first).
WITH
instances AS (
    -- Terminated instances never count; a missing status (older agents) counts as not terminated.
    SELECT ii.accountid, ii.region, ii.resourceid, ii.platformtype
    FROM aws_instanceinformation AS ii
    WHERE lower(coalesce(ii.instancestatus, '')) <> 'terminated'
),
urgent AS (
    -- Missing Critical or Security patches: vendor severity Critical, or a security classification
    -- (Amazon Linux/RHEL/Ubuntu: Security; Windows: SecurityUpdates, CriticalUpdates).
    SELECT
        ci.accountid,
        ci.region,
        ci.resourceid,
        count_if(upper(coalesce(ci.patchseverity, '')) = 'CRITICAL') AS missing_critical,
        count(*) AS missing_critical_or_security
    FROM aws_complianceitem AS ci
    WHERE ci.compliancetype = 'Patch'
        AND ci.status = 'NON_COMPLIANT'
        AND (
            upper(coalesce(ci.patchseverity, '')) = 'CRITICAL'
            OR ci.classification IN ('Security', 'SecurityUpdates', 'CriticalUpdates')
        )
    GROUP BY ci.accountid, ci.region, ci.resourceid
),
last_install AS (
    -- When patching last installed something on the node (ISO-8601 strings sort by time).
    -- Resource data sync keeps only the latest scan, so this is the clock the SLA runs on:
    -- a patch cannot have been missing for longer than the node has gone unpatched.
    SELECT ci.accountid, ci.region, ci.resourceid, max(nullif(ci.installedtime, '')) AS last_patch_installed
    FROM aws_complianceitem AS ci
    WHERE ci.compliancetype = 'Patch'
        AND ci.status = 'COMPLIANT'
    GROUP BY ci.accountid, ci.region, ci.resourceid
)
SELECT
    i.accountid,
    i.region,
    i.resourceid,
    u.missing_critical,
    l.last_patch_installed,
    date_diff('day', from_iso8601_timestamp(l.last_patch_installed), current_timestamp) AS days_since_last_patch
FROM instances AS i
INNER JOIN urgent AS u
    ON u.accountid = i.accountid
    AND u.region = i.region
    AND u.resourceid = i.resourceid
LEFT JOIN last_install AS l
    ON l.accountid = i.accountid
    AND l.region = i.region
    AND l.resourceid = i.resourceid
WHERE u.missing_critical > 0
ORDER BY days_since_last_patch DESC NULLS FIRST, i.accountid, i.region, i.resourceid
