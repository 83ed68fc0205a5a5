"""``PatchingHub``: everything the central account runs, one box per architecture part.

The hub is the central stack's root component: it receives the stack's config and hands each
part only its own section (and the few stack-wide values it needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from .. import naming
from ..config import CentralConfig
from ..runbooks import render_runbook
from .change_calendar import ChangeCalendar, ChangeCalendarArgs
from .compliance_lake import ComplianceLake, ComplianceLakeArgs
from .deploy_role_bootstrap import DeployRoleBootstrap, DeployRoleBootstrapArgs
from .emergency_patching import EmergencyPatching, EmergencyPatchingArgs
from .inspector_rule import InspectorRule, InspectorRuleArgs
from .patch_events import PatchEvents, PatchEventsArgs
from .pre_patch_notices import PrePatchNotices, PrePatchNoticesArgs
from .self_service_catalog import SelfServiceCatalog, SelfServiceCatalogArgs


@dataclass
class PatchingHubArgs:
    config: CentralConfig
    partition: str = "aws"


class PatchingHub(pulumi.ComponentResource):
    compliance: ComplianceLake
    emergency: EmergencyPatching
    catalog: SelfServiceCatalog
    bootstrap: DeployRoleBootstrap | None
    events: PatchEvents
    inspector: InspectorRule | None
    notices: PrePatchNotices | None
    change_calendar: ChangeCalendar

    def __init__(self, name: str, args: PatchingHubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:hub:PatchingHub", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        self.compliance = ComplianceLake(
            f"{name}-compliance",
            ComplianceLakeArgs(
                org_id=cfg.org_id,
                account_id=cfg.central_account_id,
                region=cfg.home_region,
                partition=args.partition,
                config=cfg.compliance,
                accounts=list(cfg.accounts),
                regions=list(cfg.regions) or [cfg.home_region],
            ),
            opts=child,
        )
        self.emergency = EmergencyPatching(
            f"{name}-emergency",
            EmergencyPatchingArgs(
                emergency=cfg.emergency,
                org_id=cfg.org_id,
                account_id=cfg.central_account_id,
                home_region=cfg.home_region,
                log_retention_days=cfg.compliance.cloudwatch_log_retention_days,
                regions=list(cfg.regions),
                partition=args.partition,
                patch_log_bucket=self.compliance.patch_logs.bucket.bucket,
                topic_kms_key_arn=self.compliance.key.arn,  # the approval topic and table use the hub key
                # A multi-account automation runs the hub's copy of each runbook in the targets.
                runbooks={
                    runbook: render_runbook(runbook) for runbook in (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG)
                },
                # The hub's key: its policy already lets the hub's CloudWatch Logs and IAM use it (issue 13 item 8).
                log_kms_key_arn=self.compliance.key.arn,
                shared_with=list(cfg.accounts),
            ),
            opts=child,
        )
        self.catalog = SelfServiceCatalog(
            f"{name}-catalog",
            SelfServiceCatalogArgs(
                catalog=cfg.catalog,
                org_id=cfg.org_id,
                kms_key_arn=self.compliance.key.arn,
                account_id=cfg.central_account_id,
                partition=args.partition,
            ),
            opts=child,
        )
        self.events = PatchEvents(
            f"{name}-events",
            PatchEventsArgs(
                config=cfg.events,
                org_id=cfg.org_id,
                account_id=cfg.central_account_id,
                region=cfg.home_region,
                partition=args.partition,
                key_arn=self.compliance.key.arn,
                database_name=self.compliance.database.name,
                workgroup_name=self.compliance.workgroup.name,
                accounts=list(cfg.accounts),
                regions=list(cfg.regions) or [cfg.home_region],
                log_retention_days=cfg.compliance.cloudwatch_log_retention_days,
                emergency_state_machine_arn=self.emergency.state_machine.arn,
                emergency_function_name=self.emergency.validate_function.name,
            ),
            opts=child,
        )
        # Opt-in (org-patching:inspector.enabled): Inspector findings start emergency requests (issue 16 item 4).
        self.inspector = (
            InspectorRule(
                f"{name}-inspector",
                InspectorRuleArgs(
                    config=cfg.inspector,
                    account_id=cfg.central_account_id,
                    region=cfg.home_region,
                    partition=args.partition,
                    log_retention_days=cfg.compliance.cloudwatch_log_retention_days,
                    key_arn=self.compliance.key.arn,
                    table_name=self.events.dedupe_table.name,
                    table_arn=self.events.dedupe_table.arn,
                    approval_function_name=self.emergency.approval.function.name,
                    approval_function_arn=self.emergency.approval.function.arn,
                    state_machine_arn=self.emergency.state_machine.arn,
                    dead_letters_arn=self.events.dead_letters.arn,
                ),
                opts=child,
            )
            if cfg.inspector.enabled
            else None
        )
        self.notices = None
        if cfg.notices.enabled:
            self.notices = PrePatchNotices(
                f"{name}-notices",
                PrePatchNoticesArgs(
                    config=cfg.notices,
                    org_id=cfg.org_id,
                    account_id=cfg.central_account_id,
                    region=cfg.home_region,
                    partition=args.partition,
                    key_arn=self.compliance.key.arn,
                    accounts=list(cfg.accounts),
                    regions=list(cfg.regions) or [cfg.home_region],
                    log_retention_days=cfg.compliance.cloudwatch_log_retention_days,
                    dedupe_table_arn=self.events.dedupe_table.arn,
                    dedupe_table_name=self.events.dedupe_table.name,
                    dedupe_days=cfg.events.dedupe_days,
                    dead_letter_arn=self.events.dead_letters.arn,
                    alert_topic_arn=self.events.alert_topic.arn,
                ),
                opts=child,
            )
        self.change_calendar = ChangeCalendar(
            f"{name}-change-freeze",
            ChangeCalendarArgs(
                config=cfg.change_freeze,
                account_id=cfg.central_account_id,
                region=cfg.home_region,
                partition=args.partition,
                shared_with=list(cfg.accounts),
                regions=list(cfg.regions),
            ),
            opts=child,
        )
        boot = DeployRoleBootstrapArgs(config=cfg.bootstrap, org_id=cfg.org_id, region=cfg.home_region)
        self.bootstrap = DeployRoleBootstrap(f"{name}-bootstrap", boot, opts=child) if cfg.bootstrap.enabled else None
        self.register_outputs({})

    def outputs(self) -> dict[str, Any]:
        """The hub's sections of the central stack's outputs, each written by its part."""
        return {
            "compliance": self.compliance.outputs(),
            "emergency": self.emergency.outputs(),
            "catalog": self.catalog.outputs(),
            "events": self.events.outputs(),
            **({"notices": self.notices.outputs()} if self.notices else {}),
            **({"bootstrap": {"deployRoleName": self.bootstrap.role_name}} if self.bootstrap else {}),
        }
