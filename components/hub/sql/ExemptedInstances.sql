-- Instances (not terminated) their owners exempted from patching with install_patch=no (or the seed's patch_install=no), any case, with their patch status.
-- The exemption is the tag contract's (components/hub/instance_categories.py renders it from policies/tag_contract.py).
WITH
-- @include classified_instances
SELECT
    c.accountid,
    c.region,
    c.resourceid,
    c.category_reason AS exemption_tag,
    coalesce(p.status, 'UNREPORTED') AS patch_status
FROM classified AS c
LEFT JOIN patch AS p
    ON p.accountid = c.accountid
    AND p.region = c.region
    AND p.resourceid = c.resourceid
WHERE c.category = 'exempt'
ORDER BY c.accountid, c.region, c.resourceid
