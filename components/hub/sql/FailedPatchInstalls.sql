-- Failed runs: every patch whose install failed (PatchState Failed) on an instance that is not terminated, with the run that failed and why.
SELECT
    ci.accountid,
    ci.region,
    ci.resourceid,
    ci.id AS patch,
    ci.title,
    ci.classification,
    ci.patchseverity,
    ci.executionid,
    ci.executiontime,
    'install of ' || ci.id || ' failed (PatchState Failed) in run ' || coalesce(nullif(ci.executionid, ''), '?') AS reason
FROM aws_complianceitem AS ci
INNER JOIN aws_instanceinformation AS ii
    ON ii.accountid = ci.accountid
    AND ii.region = ci.region
    AND ii.resourceid = ci.resourceid
WHERE ci.compliancetype = 'Patch'
    AND ci.patchstate = 'Failed'
    AND lower(coalesce(ii.instancestatus, '')) <> 'terminated'
ORDER BY ci.executiontime DESC, ci.accountid, ci.region, ci.resourceid, ci.id
