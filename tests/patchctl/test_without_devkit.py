"""``patchctl`` installs and runs without moto and without the dev kit.

The operator CLI is the product; the emulator, the moto extension and the demo are the dev kit,
which is not installed with it. A fresh interpreter with an import blocker for ``moto`` and
``devkit`` (a meta-path finder that raises ImportError, as if neither were installed) runs every
command's ``--help`` and a preview of both example stacks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import argparse, contextlib, importlib, importlib.abc, io, json, pkgutil, sys

BLOCKED = ("moto", "devkit")


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"No module named {name!r} (blocked: patchctl must run without the dev kit)")
        return None


sys.meta_path.insert(0, Blocker())
report = {"blocked": []}
for name in BLOCKED:
    try:
        importlib.import_module(name)
    except ImportError:
        report["blocked"].append(name)

from patchctl import commands
from patchctl.cli import main

helps = {}
for info in pkgutil.iter_modules(commands.__path__):
    module = importlib.import_module(f"patchctl.commands.{info.name}")
    command = module.add_parser(argparse.ArgumentParser(prog="patchctl").add_subparsers()).prog.split()[-1]
    with contextlib.redirect_stdout(io.StringIO()) as text:
        try:
            main([command, "--help"])
            code = None
        except SystemExit as exit:
            code = exit.code
    helps[command] = {"exit": code, "usage": text.getvalue().startswith(f"usage: patchctl {command}")}
report["help"] = helps

root, out = sys.argv[1], sys.argv[2]
report["preview"] = {
    "central": main(["preview", "--stack", "central", "--config", f"{root}/Pulumi.central.yaml",
                     "--json", f"{out}/central.json", "--quiet"]),
    "child": main(["preview", "--stack", "child", "--config", f"{root}/Pulumi.child.yaml",
                   "--hub-json", f"{out}/central.json", "--json", f"{out}/child.json", "--quiet"]),
}
report["loaded"] = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps(report))
"""


def test_every_command_and_both_previews_run_with_moto_and_devkit_uninstallable(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["blocked"] == ["moto", "devkit"]  # the blocker works: neither can be imported
    assert set(report["help"]) == {
        "admin-preview",
        "emergency",
        "policy-check",
        "preview",
        "report",
        "shards",
        "summary",
    }
    assert all(entry == {"exit": 0, "usage": True} for entry in report["help"].values()), report["help"]
    assert report["preview"] == {"central": 0, "child": 0}
    child = json.loads((tmp_path / "child.json").read_text(encoding="utf-8"))
    assert child["summary"]["resources"] > 100
    assert report["loaded"] == []
