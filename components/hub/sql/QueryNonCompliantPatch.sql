-- Missing or failed patches (NON_COMPLIANT Patch items) on every instance that is not terminated, org-wide, no row limit.
SELECT
    ci.accountid,
    ci.region,
    ci.resourceid,
    ci.id,
    ci.title,
    ci.classification,
    ci.patchseverity,
    ci.severity,
    ci.patchstate,
    ci.patchbaselineid,
    ci.patchgroup,
    ci.executiontime
FROM aws_complianceitem AS ci
INNER JOIN aws_instanceinformation AS ii
    ON ii.accountid = ci.accountid
    AND ii.region = ci.region
    AND ii.resourceid = ci.resourceid
WHERE ci.compliancetype = 'Patch'
    AND ci.status = 'NON_COMPLIANT'
    AND lower(coalesce(ii.instancestatus, '')) <> 'terminated'
ORDER BY ci.accountid, ci.region, ci.resourceid, ci.id
