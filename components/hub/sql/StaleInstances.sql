-- Instances (not terminated) whose inventory was last captured more than 7 days ago (params.stale_days): agent down, node stopped or sync broken.
WITH
params AS (
    SELECT 7 AS stale_days
)
SELECT
    ii.accountid,
    ii.region,
    ii.resourceid,
    ii.instancestatus,
    ii.platformtype,
    ii.capturetime AS last_capture,
    date_diff('day', from_iso8601_timestamp(nullif(ii.capturetime, '')), current_timestamp) AS days_since_capture
FROM aws_instanceinformation AS ii
CROSS JOIN params AS p
WHERE lower(coalesce(ii.instancestatus, '')) <> 'terminated'
    AND (
        nullif(ii.capturetime, '') IS NULL
        OR from_iso8601_timestamp(nullif(ii.capturetime, '')) < date_add('day', -p.stale_days, current_timestamp)
    )
ORDER BY days_since_capture DESC NULLS FIRST, ii.accountid, ii.region, ii.resourceid
