-- Every patch (installed or missing) of every instance that is not terminated, with account, region and platform.
-- Unsorted on purpose: ~50 rows per instance (5 million for 100,000 instances) is an export,
-- and a global sort would double the query time; sort in the consumer.
SELECT
    ci.accountid,
    ci.region,
    ci.resourceid,
    ci.status,
    ci.compliancetype,
    ci.classification,
    ci.id,
    ci.patchstate,
    ci.patchseverity,
    ci.installedtime,
    ci.capturetime,
    ii.platformname,
    ii.ipaddress,
    ii.platformtype,
    ii.instancestatus
FROM aws_complianceitem AS ci
INNER JOIN aws_instanceinformation AS ii
    ON ii.accountid = ci.accountid
    AND ii.region = ci.region
    AND ii.resourceid = ci.resourceid
WHERE ci.compliancetype = 'Patch'
    AND lower(coalesce(ii.instancestatus, '')) <> 'terminated'
