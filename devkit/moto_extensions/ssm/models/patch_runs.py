"""What an ``AWS-RunPatchBaseline`` run reports, for the tests' and the demo's maintenance windows.

SSM Patch Manager runs on the instances, which the emulator does not have. These functions write
what a run would report — patch states, per-patch data and ``Patch`` compliance items — through
the same state the API reads (:func:`.patching.patch_data`), so ``DescribeInstancePatchStates``,
the compliance operations and the inventory sync see a run exactly as they would on AWS.
"""

from __future__ import annotations

import datetime
import fnmatch
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from devkit.moto_extensions.ssm.models.patching import COUNT_KEYS, managed_instances, patch_data


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def default_catalog(instance_id: str, platform: str = "Linux") -> list[dict[str, Any]]:
    """A deterministic set of applicable patches for an instance (3 to 6, mixed severities)."""
    digest = hashlib.sha256(instance_id.encode()).digest()
    count = 3 + digest[0] % 4
    patches = []
    for n in range(count):
        severity = ("Critical", "Important", "Medium", "Low")[digest[n + 1] % 4]
        if platform == "Windows":
            kb = f"KB50{digest[n + 5] % 90 + 10:02d}{n}{digest[n + 9] % 10}"
            title = f"{datetime.date.today():%Y-%m} Cumulative Update ({kb})"
            classification = "SecurityUpdates" if severity in ("Critical", "Important") else "Updates"
        else:
            # Linux: KBId is package.arch, Title package.arch:epoch:version-release (as SSM reports them)
            package = ("kernel", "openssl", "glibc", "curl", "python3", "systemd", "sudo")[n % 7]
            kb = f"{package}.x86_64"
            title = f"{kb}:0:{digest[n + 5] % 9 + 1}.{n}.{digest[n + 9] % 50}-1.amzn2023"
            classification = "Security" if severity in ("Critical", "Important") else "Bugfix"
        patches.append({"KBId": kb, "Title": title, "Classification": classification, "Severity": severity})
    return patches


def seed_patches(account: str, region: str, instance_id: str, patches: list[dict[str, Any]]) -> None:
    """Set the patches applicable to an instance (each: KBId, Title, Classification, Severity; optional State)."""
    patch_data(account, region).catalog[instance_id] = [dict(p) for p in patches]


_COMPLIANCE_SEVERITY = {"Critical": "CRITICAL", "Important": "HIGH", "Medium": "MEDIUM", "Low": "LOW"}


def _override_allows(patch: dict[str, Any], override: list[str] | None) -> bool:
    if override is None:
        return True
    return any(fnmatch.fnmatchcase(patch["KBId"], o) or fnmatch.fnmatchcase(patch["Title"], o) for o in override)


def simulate_patch_run(
    account: str,
    region: str,
    instance_ids: Iterable[str] | None = None,
    operation: str = "Scan",
    *,
    reboot_option: str = "RebootIfNeeded",
    install_override_list: list[str] | None = None,
    fail: Iterable[str] = (),
    baseline_id: str | None = None,
    snapshot_id: str | None = None,
    when: datetime.datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """Record what an ``AWS-RunPatchBaseline`` run reports, for managed instances (all, or ``instance_ids``).

    ``Scan`` marks not-yet-installed patches ``Missing``. ``Install`` installs the missing ones (only those matched by
    ``install_override_list`` ids/title globs when given), except KB ids in ``fail`` which become ``Failed``. With
    ``NoReboot`` installed patches are ``InstalledPendingReboot``. Patch states, per-patch data and ``Patch``
    compliance items are written exactly as SSM would, so the compliance APIs and the inventory sync see them.
    Returns the new InstancePatchState per instance.
    """
    if operation not in ("Scan", "Install"):
        raise ValueError(f"operation: {operation!r} is not Scan or Install")
    if reboot_option not in ("RebootIfNeeded", "NoReboot"):
        raise ValueError(f"reboot_option: {reboot_option!r} is not RebootIfNeeded or NoReboot")
    data = patch_data(account, region)
    managed = {i["InstanceId"]: i for i in managed_instances(account, region)}
    wanted = list(instance_ids) if instance_ids is not None else sorted(managed)
    failed_ids = set(fail)
    start = when or _now()
    end = start + datetime.timedelta(minutes=7)
    snapshot = snapshot_id or str(uuid.uuid4())
    results = {}
    for instance_id in wanted:
        info = managed.get(instance_id)
        if info is None:
            raise ValueError(f"{instance_id} is not a managed instance in {account}/{region} (running + profile)")
        previous = {p["KBId"]: p for p in data.patches.get(instance_id, [])}
        catalog = data.catalog.get(instance_id) or default_catalog(instance_id, info["PlatformType"])
        patches = []
        for patch in catalog:
            state = previous.get(patch["KBId"], {}).get("State") or patch.get("State") or "Missing"
            installed_time = previous.get(patch["KBId"], {}).get("InstalledTime")
            if (
                operation == "Install"
                and state in ("Missing", "Failed")
                and _override_allows(patch, install_override_list)
            ):
                if patch["KBId"] in failed_ids:
                    state = "Failed"
                else:
                    state = "InstalledPendingReboot" if reboot_option == "NoReboot" else "Installed"
                    installed_time = end
            elif state == "InstalledPendingReboot" and operation == "Install" and reboot_option == "RebootIfNeeded":
                state = "Installed"
            entry = {
                "Title": patch["Title"],
                "KBId": patch["KBId"],
                "Classification": patch["Classification"],
                "Severity": patch["Severity"],
                "State": state,
                "InstalledTime": installed_time or datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC),
            }
            if patch.get("CVEIds"):
                entry["CVEIds"] = patch["CVEIds"]
            patches.append(entry)
        data.patches[instance_id] = patches
        counts = {name: sum(1 for p in patches if p["State"] == name) for name in COUNT_KEYS.values()}
        tags = info["_tags"]
        state_item: dict[str, Any] = {
            "InstanceId": instance_id,
            "PatchGroup": tags.get("Patch Group", ""),
            "BaselineId": baseline_id or "pb-0123456789abcdef0",
            "SnapshotId": snapshot,
            "OwnerInformation": "",
            **{key: counts[name] for key, name in COUNT_KEYS.items()},
            "AvailableSecurityUpdateCount": 0,
            "OperationStartTime": start,
            "OperationEndTime": end,
            "Operation": operation,
            "RebootOption": reboot_option,
            "CriticalNonCompliantCount": sum(
                1 for p in patches if p["State"] in ("Missing", "Failed") and p["Severity"] == "Critical"
            ),
            "SecurityNonCompliantCount": sum(
                1
                for p in patches
                if p["State"] in ("Missing", "Failed") and p["Classification"] in ("Security", "SecurityUpdates")
            ),
            "OtherNonCompliantCount": sum(
                1
                for p in patches
                if p["State"] in ("Missing", "Failed") and p["Classification"] not in ("Security", "SecurityUpdates")
            ),
        }
        if install_override_list is not None:
            state_item["InstallOverrideList"] = "s3://override/list.yaml"
        if reboot_option == "NoReboot" and operation == "Install":
            state_item["LastNoRebootInstallOperationTime"] = end
        data.states[instance_id] = state_item
        data.put_compliance_items(
            instance_id,
            "ManagedInstance",
            "Patch",
            [
                {
                    "Id": p["KBId"],
                    "Title": p["Title"],
                    "Severity": _COMPLIANCE_SEVERITY.get(p["Severity"], "UNSPECIFIED"),
                    "Status": "NON_COMPLIANT" if p["State"] in ("Missing", "Failed") else "COMPLIANT",
                    "Details": {
                        "Classification": p["Classification"],
                        "PatchSeverity": p["Severity"],
                        "PatchState": p["State"],
                        "InstalledTime": "" if p["State"] in ("Missing", "Failed") else p["InstalledTime"].isoformat(),
                    },
                }
                for p in patches
            ],
            {"ExecutionTime": end, "ExecutionId": snapshot, "ExecutionType": "Command"},
        )
        results[instance_id] = state_item
    return results


def simulate_window_run(
    account: str,
    region: str,
    window: str,
    operation: str = "Install",
    *,
    tag_key: str = "maintenance_window",
    reboot_option: str = "RebootIfNeeded",
    install_override_list: list[str] | None = None,
    fail: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """What a maintenance window's standalone task reports: :func:`simulate_patch_run` on the managed instances
    tagged ``<tag_key>=<window>`` in the account+region (the demo calls this when a window "fires")."""
    targets = [i["InstanceId"] for i in managed_instances(account, region) if i["_tags"].get(tag_key) == window]
    return simulate_patch_run(
        account,
        region,
        targets,
        operation,
        reboot_option=reboot_option,
        install_override_list=install_override_list,
        fail=fail,
    )
