"""How product code leaves the repository: Lambda archives and inlined runbook scripts, built one way.

Both carry the tag contract (``policies/tag_contract.py``, the installed top-level module
``tag_contract``), never a retyped copy of it:

* **Lambda archives** (:func:`archive`): ``lambda_src/<name>/*.py`` plus ``tag_contract.py`` and the
  shared Lambda runtime package ``lambda_shared/`` beside ``app.py``, so the handler imports both as
  top-level modules exactly as the tests and the emulator do. A ``pulumi.AssetArchive`` of
  ``FileAsset``s: the archive's hash changes only when one of those files changes.
* **Runbook scripts** (:func:`inline_script`): an ``aws:executeScript`` step carries its code inline
  (no S3 attachment to version and share across 1,000 accounts) and SSM's script runtime offers only
  the standard library and boto3. A script imports contract names (``from tag_contract import X``);
  the inlined text replaces that import by the contract's definitions that ``X`` reaches, followed by
  the handler and every top-level definition it reaches, docstrings stripped (SSM rejects documents
  over 64 KB). The result is one self-contained module: no ``exec``, no ``sys.modules`` writes.

The functions run on the AWS-managed Powertools for AWS Lambda layer (:func:`powertools_layer`): the
handlers use its Logger, Metrics, event data classes and parser, and the layer ships the parser's
pydantic, so no archive bundles a dependency.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pulumi
import tag_contract

from .errors import OrgPatchingError

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = ROOT / "lambda_src"
#: The contract as imported: the file the program itself runs with is the file every archive carries.
CONTRACT_FILE = Path(tag_contract.__file__).resolve()
CONTRACT_MODULE = "tag_contract"
#: The shared Lambda runtime (retries, paged describes, tagging, metrics), a package beside ``app.py``.
SHARED_PACKAGE = "lambda_shared"
SHARED_DIR = LAMBDA_DIR / SHARED_PACKAGE

RUNTIME = "python3.12"
#: Powertools for AWS Lambda (Python) v3, layer version 27 (docs/index.md of
#: aws-powertools/powertools-lambda-python, Nov 2025). Bump deliberately: it changes every function.
POWERTOOLS_LAYER_VERSION = 27
#: Publisher account of the Powertools layer per partition (the same docs page).
POWERTOOLS_PUBLISHER = {"aws": "017000801446", "aws-cn": "498634801083"}

Architecture = Literal["x86_64", "arm64"]


class PackagingError(OrgPatchingError):
    """Code cannot be packaged (missing handler, a script that cannot be inlined); the message says which."""


def powertools_layer(partition: str, region: str, architecture: Architecture = "x86_64") -> str:
    """The AWS-managed Powertools layer ARN for ``region``; an unknown partition is an error."""
    publisher = POWERTOOLS_PUBLISHER.get(partition)
    if publisher is None:
        raise PackagingError(
            f"region {region}: no Powertools for AWS Lambda layer is published in partition {partition!r}"
        )
    runtime = RUNTIME.replace(".", "")
    return (
        f"arn:{partition}:lambda:{region}:{publisher}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{runtime}-{architecture}:{POWERTOOLS_LAYER_VERSION}"
    )


# --------------------------------------------------------------------------------------------------------------
# Runbook scripts
# --------------------------------------------------------------------------------------------------------------


#: The fields that hold statement lists (``ExceptHandler`` and ``match_case`` keep theirs in ``body``).
_STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(tree: ast.AST) -> Iterator[ast.AST]:
    """Every statement of ``tree`` (and every except handler and match case), expressions skipped: a
    docstring's owner is always a statement, and a script's expressions are ten times its statements."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        yield node
        for field in _STATEMENT_FIELDS:
            children = getattr(node, field, None)
            if isinstance(children, list):
                todo.extend(children)


def _strip_docstrings(tree: ast.AST) -> None:
    for node in _statements(tree):
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


@functools.cache
def _used_names(node: ast.AST) -> frozenset[str]:
    """Cached per node (nodes hash by identity): the trees of :func:`_parsed` are shared and never change."""
    return frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name))


def _reached(tree: ast.Module, roots: set[str]) -> list[ast.stmt]:
    """The top-level definitions of ``tree`` that ``roots`` reach (transitively), in source order."""
    definitions: dict[str, ast.stmt] = {}
    for node in tree.body:
        for name in _defined_names(node):
            definitions[name] = node
    wanted: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in wanted or name not in definitions:
            continue
        wanted.add(name)
        todo.extend(_used_names(definitions[name]) - wanted)
    return [node for node in tree.body if _defined_names(node) & wanted]


def _imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]


def _contract_import(node: ast.stmt) -> bool:
    return (isinstance(node, ast.ImportFrom) and node.module == CONTRACT_MODULE) or (
        isinstance(node, ast.Import) and any(alias.name == CONTRACT_MODULE for alias in node.names)
    )


@functools.cache
def _parsed(source: str) -> ast.Module:
    """``source`` parsed once per program run, docstrings already stripped (a runbook inlines up to 13
    handlers of one 40 KB script: parsing it once instead of per handler is most of a render's runbook
    cost). Shared between callers, so never mutated after this: stripping first is the same as stripping
    the assembled module, as a docstring defines and uses no name."""
    tree = ast.parse(source)
    _strip_docstrings(tree)
    return tree


@functools.cache
def _unparsed(node: ast.stmt) -> str:
    """One statement's source, cached per node like :func:`_used_names`: a runbook's handlers share most of
    their script's definitions (13 handlers of ``asg_rebake.py``), so each is unparsed once per run."""
    return ast.unparse(node)


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def unparse_body(body: list[ast.stmt]) -> str:
    """``ast.unparse(ast.Module(body=body, type_ignores=[]))``, assembled from each statement's cached text:
    the unparser starts every statement but the first on a new line, and puts a blank line before a
    function or class (``_Unparser.maybe_newline`` then ``fill``). A leading docstring, which the unparser
    writes its own way, goes through ``ast.unparse`` whole (minimal_source never has one: docstrings are
    stripped and its first statement is an import or a definition)."""
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return ast.unparse(ast.Module(body=body, type_ignores=[]))
    parts: list[str] = []
    for index, node in enumerate(body):
        if index:
            parts.append("\n\n" if isinstance(node, _DEFINITIONS) else "\n")
        parts.append(_unparsed(node))
    return "".join(parts)


def minimal_source(source: str, handler: str, contract: str | None = None) -> str:
    """The self-contained code of one script step: imports, the contract's definitions the handler reaches
    (``contract`` is the contract's source), the handler and what it reaches; docstrings stripped."""
    tree = _parsed(source)
    top = {name: node for node in tree.body for name in _defined_names(node)}
    if not isinstance(top.get(handler), ast.FunctionDef):
        raise PackagingError(f"handler {handler!r} is not a top-level function of the script")
    kept = _reached(tree, {handler})
    used = set().union(*(_used_names(node) for node in kept))
    imports: list[ast.stmt] = []
    inlined: list[ast.stmt] = []
    for node in _imports(tree):
        if not _contract_import(node):
            imports.append(node)
            continue
        if not isinstance(node, ast.ImportFrom) or any(alias.asname for alias in node.names):
            raise PackagingError(
                f"{ast.unparse(node)}: import names from the contract as they are (from {CONTRACT_MODULE} import NAME)"
            )
        names = {alias.name for alias in node.names} & used
        if not names:
            continue
        if contract is None:
            raise PackagingError(f"the handler {handler!r} reaches the tag contract but no contract source was given")
        contract_tree = _parsed(contract)
        reached = _reached(contract_tree, names)
        missing = names - set().union(*(_defined_names(n) for n in reached))
        if missing:
            raise PackagingError(f"{CONTRACT_MODULE} defines no {', '.join(sorted(missing))}")
        clash = set().union(*(_defined_names(n) for n in reached)) & (set(top) - names)
        if clash:
            raise PackagingError(f"the script redefines contract name(s) {', '.join(sorted(clash))}: rename them")
        imports.extend(_imports(contract_tree))
        inlined.extend(reached)
    future = [n for n in imports if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    others = [n for n in imports if n not in future]
    unique: dict[str, ast.stmt] = {_unparsed(n): n for n in [*future, *others]}
    return unparse_body([*unique.values(), *inlined, *kept]) + "\n"


def inline_script(path: Path, handler: str) -> str:
    """The code of one ``aws:executeScript`` step as it goes into the document (see the module docstring)."""
    if not path.is_file():
        raise PackagingError(f"script {path.name} does not exist in {path.parent}")
    # one line per script step: short, since the ASG runbook inlines its script 14 times under SSM's 64 KB
    header = f"# org-patching {path.name}:{handler} (components.packaging)\n"
    return header + minimal_source(path.read_text(), handler, CONTRACT_FILE.read_text())


# --------------------------------------------------------------------------------------------------------------
# Lambda archives
# --------------------------------------------------------------------------------------------------------------


def archive_files(name: str) -> dict[str, Path]:
    """What the deployment package of ``lambda_src/<name>`` holds: path in the archive -> file.

    Its Python files, the tag contract and the shared runtime, so ``app.py`` imports ``tag_contract`` and
    ``lambda_shared`` as top-level modules, as it does in the tests and the emulator.
    """
    source = LAMBDA_DIR / name
    if not (source / "app.py").is_file() or source == SHARED_DIR:
        raise PackagingError(f"lambda_src/{name}/app.py does not exist: the function cannot be packaged")
    files = {path.name: path for path in sorted(source.glob("*.py"))}
    files[f"{CONTRACT_MODULE}.py"] = CONTRACT_FILE
    files.update({f"{SHARED_PACKAGE}/{path.name}": path for path in sorted(SHARED_DIR.glob("*.py"))})
    return files


@functools.cache
def archive(name: str) -> pulumi.AssetArchive:
    """The deployment package of ``lambda_src/<name>`` (:func:`archive_files`) as ``FileAsset``s."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        path_in_archive: pulumi.FileAsset(str(path)) for path_in_archive, path in archive_files(name).items()
    }
    return pulumi.AssetArchive(assets)
