-- Compliance over time: per capture day (UTC), environment and account, the instances we are responsible for and how many were compliant at that scan.
-- Resource data sync keeps each node's latest scan, so a day's point counts the nodes whose latest scan is
-- from that day; more days appear as the source keeps more captures (an events table, dated copies).
WITH
-- @include classified_instances
SELECT
    substr(coalesce(nullif(last_scan, ''), capturetime), 1, 10) AS day,
    environment,
    accountid,
    count_if(category IN ('compliant', 'non_compliant', 'never_scanned')) AS responsible,
    count_if(category = 'compliant') AS compliant
FROM classified
WHERE coalesce(nullif(last_scan, ''), capturetime) IS NOT NULL
GROUP BY substr(coalesce(nullif(last_scan, ''), capturetime), 1, 10), environment, accountid
ORDER BY day, environment, accountid
