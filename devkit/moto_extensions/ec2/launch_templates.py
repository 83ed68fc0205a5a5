"""EC2 launch template versions for moto: ``SourceVersion`` inheritance, the response-only fields AWS returns,
and ``DeleteLaunchTemplateVersions``.

What AWS does and moto 5.2 does not (sources: botocore's EC2 model, the documentation of
``CreateLaunchTemplateVersion.SourceVersion`` and the ``LaunchTemplateInstanceMetadataOptions`` response shape;
EC2 API reference, DeleteLaunchTemplateVersions):

* With ``SourceVersion`` the new version "inherits the launch parameters from the source version"; the parameters
  given in ``LaunchTemplateData`` overwrite the inherited ones. moto ignored it (the new version had only what was
  sent), so a rebake that sends ``SourceVersion`` + ``ImageId`` would lose everything else.
* A described version's ``MetadataOptions`` carries ``State`` (``pending``/``applied``), which is a response-only
  field: sending a described version back fails botocore's validation (``ParamValidationError``), as on AWS.
* ``DeleteLaunchTemplateVersions`` deletes versions (never the default one: ``launchTemplateVersionIsDefaultVersion``
  in ``UnsuccessfullyDeletedLaunchTemplateVersions``); numbers are not reused and ``$Latest`` is the newest left.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import InvalidLaunchTemplateVersionNotFound
from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateVersion
from moto.ec2.responses.launch_templates import LaunchTemplates

_CREATE_VERSION = LaunchTemplate.create_version
_GET_VERSION = LaunchTemplate.get_version


def _create_version(self: LaunchTemplate, data: dict[str, Any], description: str) -> LaunchTemplateVersion:
    data = copy.deepcopy(data)
    if isinstance(data.get("MetadataOptions"), dict):
        data["MetadataOptions"]["State"] = "applied"  # response-only (LaunchTemplateInstanceMetadataOptions)
    return _CREATE_VERSION(self, data, description)


def _live(self: LaunchTemplate) -> list[LaunchTemplateVersion]:
    return [v for v in self.versions if not getattr(v, "deleted", False)]


def _get_version(self: LaunchTemplate, num: Any) -> LaunchTemplateVersion:
    if str(num).lower() == "$latest":
        return _live(self)[-1]
    version = _GET_VERSION(self, num)
    if getattr(version, "deleted", False):
        raise InvalidLaunchTemplateVersionNotFound(template_id=self.id, version=num)
    return version


def _latest_version(self: LaunchTemplate) -> LaunchTemplateVersion:
    return _live(self)[-1]


class LaunchTemplateExtensionResponse(LaunchTemplates):
    """CreateLaunchTemplateVersion with SourceVersion; DeleteLaunchTemplateVersions; describe without deleted ones."""

    def _template(self) -> LaunchTemplate:
        name, template_id = self._get_param("LaunchTemplateName"), self._get_param("LaunchTemplateId")
        if template_id:
            return self.ec2_backend.get_launch_template(template_id)
        return self.ec2_backend.get_launch_template_by_name(name)

    def create_launch_template_version(self) -> ActionResult:
        template = self._template()
        data = self._get_param("LaunchTemplateData", {}) or {}
        source = self._get_param("SourceVersion")
        if source:
            inherited = copy.deepcopy(template.get_version(source).data)
            if isinstance(inherited.get("MetadataOptions"), dict):
                inherited["MetadataOptions"].pop("State", None)
            data = {**inherited, **data}
        self.error_on_dryrun()
        version = template.create_version(data, self._get_param("VersionDescription"))
        return ActionResult(
            {
                "LaunchTemplateVersion": {
                    "CreateTime": version.create_time,
                    "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                    "DefaultVersion": template.is_default(version),
                    "LaunchTemplateData": version.data,
                    "LaunchTemplateId": template.id,
                    "LaunchTemplateName": template.name,
                    "VersionDescription": version.description,
                    "VersionNumber": version.number,
                }
            }
        )

    def delete_launch_template_versions(self) -> ActionResult:
        template = self._template()
        self.error_on_dryrun()
        done: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for number in self._get_param("Versions", []) or []:
            item = {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name}
            try:
                version = _get_version(template, number)
            except InvalidLaunchTemplateVersionNotFound:
                failed.append(
                    {
                        **item,
                        "VersionNumber": int(number),
                        "ResponseError": {
                            "Code": "launchTemplateVersionDoesNotExist",
                            "Message": "The specified launch template version does not exist",
                        },
                    }
                )
                continue
            if template.is_default(version):
                failed.append(
                    {
                        **item,
                        "VersionNumber": version.number,
                        "ResponseError": {
                            "Code": "launchTemplateVersionIsDefaultVersion",
                            "Message": "Cannot delete the default version",
                        },
                    }
                )
                continue
            version.deleted = True  # type: ignore[attr-defined]
            done.append({**item, "VersionNumber": version.number})
        return ActionResult(
            {"SuccessfullyDeletedLaunchTemplateVersions": done, "UnsuccessfullyDeletedLaunchTemplateVersions": failed}
        )

    def describe_launch_template_versions(self) -> ActionResult:
        template_id, name = self._get_param("LaunchTemplateId"), self._get_param("LaunchTemplateName")
        if (template_id or name) and not self._get_param("Versions"):
            template = self._template()
            listed = _live(template)
            return ActionResult(
                {
                    "LaunchTemplateVersions": [
                        {
                            "CreateTime": v.create_time,
                            "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                            "DefaultVersion": template.is_default(v),
                            "LaunchTemplateData": v.data,
                            "LaunchTemplateId": template.id,
                            "LaunchTemplateName": template.name,
                            "VersionDescription": v.description,
                            "VersionNumber": v.number,
                        }
                        for v in listed
                    ]
                }
            )
        return _DESCRIBE(self)


_DESCRIBE = LaunchTemplates.describe_launch_template_versions


def install() -> None:
    """Patch moto's launch templates (idempotent: the originals are kept at import)."""
    LaunchTemplate.create_version = _create_version  # type: ignore[method-assign]
    LaunchTemplate.get_version = _get_version  # type: ignore[method-assign]
    LaunchTemplate.latest_version = _latest_version  # type: ignore[method-assign]
    for name in (
        "_template",
        "create_launch_template_version",
        "delete_launch_template_versions",
        "describe_launch_template_versions",
    ):
        setattr(LaunchTemplates, name, vars(LaunchTemplateExtensionResponse)[name])
