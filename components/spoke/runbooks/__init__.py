"""The spoke's SSM Automation runbooks: YAML documents plus the Python of their ``aws:executeScript`` steps.

``render_runbook(name)`` returns the final document content (YAML text) that the child stack creates as an
``aws.ssm.Document``. Placeholder convention in the YAML sources (chosen so it can never be read as SSM's own
``{{ parameter }}`` syntax and so the sources still parse as YAML):

* ``<<script:FILE.py>>`` as the whole value of a step's ``Script`` input: replaced by the part of ``FILE.py`` (in
  this directory) that the step's ``Handler`` needs: the imports, the handler and every top-level function and
  constant it reaches, without docstrings (SSM rejects documents over 64 KB, and the ASG runbook has 12 script
  steps). When the handler reaches the tag contract, the contract's source is inlined too (the script's
  ``_INLINED_CONTRACT`` assignment receives it), because SSM's script runtime has no such module.
* ``<<tag_contract.NAME>>`` / ``<<naming.NAME>>`` anywhere in a string: replaced by that constant, so tag keys and
  physical names are never hard-coded in a document.

Why inline instead of attachments: a document with ``Script`` is one self-contained resource (no S3 attachment to
version and share across 1,000 accounts), and the tests run the exact text SSM will run.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from components import naming

HERE = Path(__file__).parent
CONTRACT_FILE = HERE.parents[2] / "policies" / "tag_contract.py"

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
    if module == "naming":
        return naming
    if "tag_contract" not in sys.modules:
        import importlib.util

        spec = importlib.util.spec_from_file_location("tag_contract", CONTRACT_FILE)
        if spec is None or spec.loader is None:
            raise RunbookError(f"cannot load the tag contract from {CONTRACT_FILE}")
        loaded = importlib.util.module_from_spec(spec)
        sys.modules["tag_contract"] = loaded
        spec.loader.exec_module(loaded)
    return sys.modules["tag_contract"]


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


def _strip_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            first = body[0] if body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]


def _defined_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def minimal_source(source: str, handler: str, contract: str | None = None) -> str:
    """The imports, ``handler`` and every top-level definition it reaches, docstrings stripped.

    ``contract``: source put into an ``_INLINED_CONTRACT`` assignment when that name is reached.
    """
    tree = ast.parse(source)
    definitions: dict[str, ast.stmt] = {}
    imports: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(node)
        for name in _defined_names(node):
            definitions[name] = node
    if handler not in definitions or not isinstance(definitions[handler], ast.FunctionDef):
        raise RunbookError(f"handler {handler!r} is not a top-level function of the script")
    wanted: set[str] = set()
    todo = [handler]
    while todo:
        name = todo.pop()
        if name in wanted or name not in definitions:
            continue
        wanted.add(name)
        todo.extend(_used_names(definitions[name]) - wanted)
    kept: list[ast.stmt] = []
    for node in tree.body:
        names = _defined_names(node)
        if names and names & wanted:
            if "_INLINED_CONTRACT" in names and contract is not None:
                node = ast.AnnAssign(
                    target=ast.Name("_INLINED_CONTRACT", ast.Store()),
                    annotation=ast.Name("str", ast.Load()),
                    value=ast.Constant(minimal_module(contract)),
                    simple=1,
                )
            kept.append(node)
    module = ast.Module(body=[*imports, *kept], type_ignores=[])
    _strip_docstrings(module)
    return ast.unparse(ast.fix_missing_locations(module)) + "\n"


def minimal_module(source: str) -> str:
    """A whole module without docstrings and comments (for the inlined tag contract)."""
    tree = ast.parse(source)
    _strip_docstrings(tree)
    return ast.unparse(tree) + "\n"


def script_source(file: str, handler: str) -> str:
    """The code of one script step as it goes into the document."""
    path = HERE / file
    if not path.is_file():
        raise RunbookError(f"script {file} does not exist in {HERE}")
    header = f"# org-patching: {file}, handler {handler} (rendered by components.spoke.runbooks)\n"
    return header + minimal_source(path.read_text(), handler, CONTRACT_FILE.read_text())


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


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the scripts) as literal blocks, so the document stays readable in the console."""


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str)


def runbook_names() -> tuple[str, ...]:
    """The deployed names of every runbook."""
    return tuple(RUNBOOK_FILES)


def render_runbook(name: str) -> str:
    """The final YAML content of runbook ``name`` (``naming.RUNBOOK_*`` or the file stem)."""
    name = _ALIASES.get(name, name)
    if name not in RUNBOOK_FILES:
        raise RunbookError(f"unknown runbook {name!r}; known: {', '.join(RUNBOOK_FILES)}")
    file = RUNBOOK_FILES[name]
    text = _replace_constants((HERE / file).read_text(), file)
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise RunbookError(f"{file}: not a YAML mapping")
    leftover = re.search(r"<<(tag_contract|naming)\.[^>]*>>", text)
    if leftover:
        raise RunbookError(f"{file}: placeholder {leftover.group(0)} was not replaced")
    rendered = _inline_scripts(document, file)
    content = yaml.dump(rendered, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)
    if len(content.encode()) > MAX_DOCUMENT_BYTES - 4096:
        raise RunbookError(f"{file}: rendered content is {len(content.encode())} bytes; SSM's limit is 64 KB")
    return content
