-- Every managed instance that is not terminated (a missing status counts as not terminated), with platform and agent.
SELECT
    ii.accountid,
    ii.region,
    ii.resourceid,
    ii.computername,
    ii.ipaddress,
    ii.platformtype,
    ii.platformname,
    ii.platformversion,
    ii.agentversion,
    ii.instancestatus,
    ii.capturetime
FROM aws_instanceinformation AS ii
WHERE lower(coalesce(ii.instancestatus, '')) <> 'terminated'
ORDER BY ii.accountid, ii.region, ii.resourceid
