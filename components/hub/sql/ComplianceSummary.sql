-- One row for the whole organization: instances (not terminated) that are patch compliant, non-compliant or never scanned.
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
    count(*) AS instances,
    count_if(p.status = 'COMPLIANT') AS compliant,
    count_if(p.status = 'NON_COMPLIANT') AS non_compliant,
    count_if(p.status IS NULL) AS unreported,
    round(100.0 * count_if(p.status = 'COMPLIANT') / nullif(count(*), 0), 2) AS compliance_pct
FROM instances AS i
LEFT JOIN patch AS p
    ON p.accountid = i.accountid
    AND p.region = i.region
    AND p.resourceid = i.resourceid
