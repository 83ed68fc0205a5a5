"""The admin program: Pulumi Deployments settings and schedules for every org-patching stack.

Pulumi recommends against a stack defining its own deployment settings (a bad update could
remove the very settings needed to deploy the fix), so they live here, in a small program of
their own, deployed by hand or from CI with a Pulumi access token; the patching stacks never
touch them.

Per stack (``StackDeployment``): the deployment settings (GitHub source, the AWS OIDC role,
``make setup`` before every run, environment variables), a drift schedule with its own
auto-remediate switch, and for child stacks an optional scheduled ``pulumi up`` that enrolls
accounts discovered in the organization since the last run.

Child stacks get two more things, because a child run depends on the central stack:

* ``PULUMI_ACCESS_TOKEN`` = ``childAccessToken`` as a secret environment variable. The token
  Pulumi Deployments provides reaches only the stack being deployed, so the child's
  StackReference to central would fail in every scheduled run;
* the central gate as the last pre-run command (``deployments/gate.py``): an update or a drift
  remediation stops, with a message saying why, unless the central stack was last updated from
  the same commit and that update succeeded. Scheduled runs take the head of the branch, which
  may hold a central change still waiting for its reviewer in ``main.yml``, or one that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_pulumiservice as ps

from .config import PULUMI_TOKEN_ENV, AdminConfig

COMPONENT_TYPE = "org-patching-admin:deployments:StackDeployment"


@dataclass
class StackDeploymentArgs:
    """Everything one stack's deployments need, already validated."""

    config: AdminConfig
    stack: str


class StackDeployment(pulumi.ComponentResource):
    """Deployment settings, drift schedule and (child stacks) the enrollment schedule of one stack.

    The schedules depend on the settings: Pulumi Cloud refuses a schedule for a stack that has
    no deployment settings yet.
    """

    settings: ps.DeploymentSettings
    drift: ps.DriftSchedule
    enroll: ps.DeploymentSchedule | None

    def __init__(self, name: str, args: StackDeploymentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        cfg, stack = args.config, args.stack
        stack_cfg = cfg.stacks[stack]
        source = cfg.source
        org, project = cfg.organization, cfg.project
        environment: dict[str, pulumi.Input[str]] = dict(cfg.environment_of(stack))
        if cfg.kind_of(stack) == "child":
            environment[PULUMI_TOKEN_ENV] = pulumi.Output.secret(cfg.child_access_token.get_secret_value())

        self.settings = ps.DeploymentSettings(
            f"{name}-settings",
            organization=org,
            project=project,
            stack=stack,
            source_context=ps.DeploymentSettingsSourceContextArgs(
                git=ps.DeploymentSettingsGitSourceArgs(branch=source.git_branch, repo_dir=source.repo_dir),
            ),
            # ``vcs`` replaces the deprecated ``github`` block (pulumi-pulumiservice 1.5).
            vcs=ps.DeploymentSettingsVcsArgs(
                provider="github",
                repository=source.repository,
                deploy_commits=source.deploy_commits,
                preview_pull_requests=source.preview_pull_requests,
                paths=source.paths or None,
            ),
            operation_context=ps.DeploymentSettingsOperationContextArgs(
                oidc=ps.OperationContextOIDCArgs(
                    aws=ps.AWSOIDCConfigurationArgs(
                        role_arn=stack_cfg.aws_role_arn,
                        session_name=cfg.session_name_of(stack),
                        duration=cfg.session_duration_of(stack),
                    )
                ),
                pre_run_commands=cfg.pre_run_commands_of(stack),
                environment_variables=environment or None,
                options=ps.OperationContextOptionsArgs(skip_install_dependencies=cfg.skip_install_dependencies),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        after_settings = pulumi.ResourceOptions(parent=self, depends_on=[self.settings])
        self.drift = ps.DriftSchedule(
            f"{name}-drift",
            organization=org,
            project=project,
            stack=stack,
            schedule_cron=stack_cfg.drift_schedule,
            auto_remediate=stack_cfg.auto_remediate,
            opts=after_settings,
        )
        self.enroll = None
        if stack_cfg.enroll_schedule:
            self.enroll = ps.DeploymentSchedule(
                f"{name}-enroll",
                organization=org,
                project=project,
                stack=stack,
                schedule_cron=stack_cfg.enroll_schedule,
                pulumi_operation=ps.PulumiOperation.UPDATE,
                opts=after_settings,
            )
        self.register_outputs(
            {
                "stack": cfg.qualified(stack),
                "sessionDuration": cfg.session_duration_of(stack),
                "driftSchedule": stack_cfg.drift_schedule,
                "autoRemediate": stack_cfg.auto_remediate,
                "enrollSchedule": stack_cfg.enroll_schedule,
            }
        )


def build(cfg: AdminConfig) -> dict[str, StackDeployment]:
    """One ``StackDeployment`` per configured stack, central first; exports a summary per stack."""
    deployments = {
        stack: StackDeployment(stack, StackDeploymentArgs(config=cfg, stack=stack)) for stack in cfg.ordered_stacks()
    }
    summary: dict[str, Any] = {
        stack: {
            "kind": cfg.kind_of(stack),
            "stack": cfg.qualified(stack),
            "awsRoleArn": cfg.stacks[stack].aws_role_arn,
            "sessionDuration": cfg.session_duration_of(stack),
            # Child runs wait for central: same commit, last update succeeded.
            "gatedOn": cfg.qualified(cfg.central_stack) if cfg.kind_of(stack) == "child" else None,
            "driftSchedule": cfg.stacks[stack].drift_schedule,
            "autoRemediate": cfg.stacks[stack].auto_remediate,
            "enrollSchedule": cfg.stacks[stack].enroll_schedule,
        }
        for stack in deployments
    }
    pulumi.export("deployments", summary)
    return deployments
