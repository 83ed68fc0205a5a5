"""The SSM Automation runbooks, as the hub and every spoke deploy them: YAML documents, the Python of their
``aws:executeScript`` steps, and the renderer.

``render_runbook(name)`` returns the final document content (YAML text) that both stacks create as an
``aws.ssm.Document`` (the child stack in every account and region, the hub in its home Region for the
emergency waves); ``load_runbooks()`` renders every runbook once, ``declared_parameters(content)`` reads the
parameters a runbook accepts (SSM rejects an execution with an undeclared parameter). Placeholder convention
in the YAML sources (chosen so it can never be read as SSM's own ``{{ parameter }}`` syntax and so the sources
still parse as YAML):

* ``<<script:FILE.py>>`` as the whole value of a step's ``Script`` input: replaced by the part of ``FILE.py`` (in
  this directory) that the step's ``Handler`` needs, with the tag contract's definitions it reaches inlined
  (``components.packaging.inline_script``: SSM's script runtime has no such module, and SSM rejects documents
  over 64 KB).
* ``<<tag_contract.NAME>>`` / ``<<naming.NAME>>`` anywhere in a string: replaced by that constant, so tag keys and
  physical names are never hard-coded in a document.

Why inline instead of attachments: a document with ``Script`` is one self-contained resource (no S3 attachment to
version and share across 1,000 accounts), and the tests run the exact text SSM will run.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import tag_contract
import yaml

from .. import naming
from ..packaging import PackagingError, inline_script

HERE = Path(__file__).parent

#: Runbook name (as deployed, see ``components.naming``) -> YAML source file.
RUNBOOK_FILES: dict[str, str] = {
    naming.RUNBOOK_STANDALONE: "patch_instances.yaml",
    naming.RUNBOOK_ASG: "patch_asgs.yaml",
}
#: Accept the file stems too (``patch_asgs``), for people and tests.
_ALIASES: dict[str, str] = {Path(file).stem: name for name, file in RUNBOOK_FILES.items()}

SCRIPT_PLACEHOLDER = re.compile(r"^<<script:([A-Za-z0-9_]+\.py)>>$")
CONSTANT_PLACEHOLDER = re.compile(r"<<(tag_contract|naming)\.([A-Z_]+)>>")


class RunbookError(ValueError):
    """A runbook source is broken (unknown name, placeholder or script); the message says which."""


def _constants(module: str) -> Any:
    return naming if module == "naming" else tag_contract


def _replace_constants(text: str, where: str) -> str:
    def value(match: re.Match[str]) -> str:
        module, name = match.group(1), match.group(2)
        constant = getattr(_constants(module), name, None)
        if not isinstance(constant, str):
            raise RunbookError(f"{where}: placeholder {match.group(0)} is not a string constant of {module}")
        return constant

    return CONSTANT_PLACEHOLDER.sub(value, text)


#: SSM's limit on a document's content (it includes the runtime parameters: keep a margin).
MAX_DOCUMENT_BYTES = 64 * 1024


def script_source(file: str, handler: str) -> str:
    """The code of one script step as it goes into the document."""
    try:
        return inline_script(HERE / file, handler)
    except PackagingError as error:
        raise RunbookError(f"{file}: {error}") from None


def _inline_scripts(node: Any, where: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "Script" and isinstance(value, str):
                match = SCRIPT_PLACEHOLDER.match(value.strip())
                if match is None:
                    raise RunbookError(f"{where}: Script must be a <<script:FILE.py>> placeholder, got {value[:40]!r}")
                handler = node.get("Handler")
                if not isinstance(handler, str):
                    raise RunbookError(f"{where}: a step with Script {value} has no Handler")
                out[key] = script_source(match.group(1), handler)
            else:
                out[key] = _inline_scripts(value, where)
        return out
    if isinstance(node, list):
        return [_inline_scripts(item, where) for item in node]
    return node


#: libyaml's safe loader and emitter when PyYAML has them (the pinned wheels do): the same documents in a
#: tenth of the time of the pure-Python ones (tests/runbooks/test_documents.py checks both give the same content).
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_SafeDumper):  # type: ignore[misc]
    """Multi-line strings (the scripts) as literal blocks, so the document stays readable in the console."""


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str)


def runbook_names() -> tuple[str, ...]:
    """The deployed names of every runbook."""
    return tuple(RUNBOOK_FILES)


def _source(name: str) -> tuple[str, str, dict[str, Any]]:
    """File, text and document of runbook ``name``'s YAML source with the constants in place, scripts not
    inlined (the ``<<script:...>>`` placeholders are plain strings)."""
    name = _ALIASES.get(name, name)
    if name not in RUNBOOK_FILES:
        raise RunbookError(f"unknown runbook {name!r}; known: {', '.join(RUNBOOK_FILES)}")
    file = RUNBOOK_FILES[name]
    text = _replace_constants((HERE / file).read_text(), file)
    document = yaml.load(text, Loader=_SafeLoader)
    if not isinstance(document, dict):
        raise RunbookError(f"{file}: not a YAML mapping")
    leftover = re.search(r"<<(tag_contract|naming)\.[^>]*>>", text)
    if leftover:
        raise RunbookError(f"{file}: placeholder {leftover.group(0)} was not replaced")
    return file, text, document


def render_runbook(name: str) -> str:
    """The final YAML content of runbook ``name`` (``naming.RUNBOOK_*`` or the file stem)."""
    file, _, document = _source(name)
    rendered = _inline_scripts(document, file)
    content = yaml.dump(rendered, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)
    if len(content.encode()) > MAX_DOCUMENT_BYTES - 4096:
        raise RunbookError(f"{file}: rendered content is {len(content.encode())} bytes; SSM's limit is 64 KB")
    return content


@functools.cache
def load_runbooks() -> dict[str, str]:
    """Runbook name -> YAML, rendered with their scripts inlined (once per program run)."""
    return {name: render_runbook(name) for name in runbook_names()}


@functools.cache
def runbook_sources() -> dict[str, str]:
    """Runbook name -> its YAML source with the constants in place and the scripts not inlined (once per
    program run). A child stack reads only the parameters the hub's copies declare
    (:func:`declared_parameters`), and inlining touches only the steps' ``Script``: the parameters are the
    rendered document's (tests/stacks/test_render_equivalence.py), without inlining 17 script handlers per
    child run. The documents themselves are rendered, and checked, where they are created: the hub."""
    return {name: _source(name)[1] for name in runbook_names()}


@functools.cache
def declared_parameters(content: str) -> frozenset[str]:
    """The parameter names a runbook declares (``parameters:`` of schema 0.3); cached: the same
    two documents are read for every account and region."""
    document: Any = yaml.load(content, Loader=_SafeLoader) or {}
    parameters = document.get("parameters") if isinstance(document, dict) else None
    return frozenset(parameters) if isinstance(parameters, dict) else frozenset()


def with_parameter_default(content: str, parameter: str, value: str) -> str:
    """``content`` with the default of one declared parameter replaced (the child stack sets its shard's
    ``BaselineOverride`` file this way, so a team window that does not pass it still gets the org's baselines)."""
    document: Any = yaml.load(content, Loader=_SafeLoader)
    parameters = document.get("parameters") if isinstance(document, dict) else None
    if not isinstance(parameters, dict) or parameter not in parameters:
        raise RunbookError(f"the runbook declares no parameter {parameter!r}")
    parameters[parameter]["default"] = value
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)
