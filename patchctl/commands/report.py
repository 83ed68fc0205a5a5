"""``patchctl report``: the org-wide patch compliance report, from Athena or a local bucket copy.

Real use: ``--athena --workgroup W --database D`` runs the named queries in the workgroup the
ComplianceLake created (results location, encryption and scan limits come from it). Offline:
``--source DIR`` runs the same SQL on DuckDB over a copy of the resource data sync bucket
(``aws s3 sync s3://<bucket> DIR``) or over ``python -m devkit fleet`` output. Both write the same
CSV per query, ``report.json`` and a self-contained ``index.html`` into ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from components.naming import GLUE_DATABASE
from patchctl.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="org-wide patch compliance report (CSV, report.json, index.html) from Athena or a local bucket copy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    engine = parser.add_mutually_exclusive_group(required=True)
    engine.add_argument("--athena", action="store_true", help="run the named queries on Amazon Athena")
    engine.add_argument("--source", type=Path, metavar="DIR", help="local copy of the resource data sync bucket")
    parser.add_argument("--workgroup", help="Athena workgroup (with --athena)")
    parser.add_argument("--database", help=f"Glue database (with --athena; the hub's is {GLUE_DATABASE})")
    parser.add_argument("--region", help="region of the Athena workgroup (default: the AWS config chain)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="where to write the report")
    parser.add_argument(
        "--sla-days", type=int, metavar="N", help="SLA in days for the breach list (default: the SQL's 30)"
    )
    parser.add_argument(
        "--accounts",
        type=Path,
        metavar="FILE",
        help="account names: 'aws organizations list-accounts' JSON output, the central stack's outputs "
        '(accountNames), or {"<id>": "<name>"}',
    )
    parser.add_argument(
        "--unmanaged",
        type=Path,
        metavar="FILE",
        help="EC2 instances with no SSM inventory (JSON array or lines: accountid, region, resourceid, reason); "
        "default: the tag sweeps' findings in the lake (the hub bucket's unmanaged/ prefix)",
    )
    parser.add_argument(
        "--json-rows", type=int, default=None, metavar="N", help="rows per query kept in report.json (CSV has all)"
    )
    return parser


def _bad(message: str) -> int:
    print(f"patchctl report: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from patchctl.report.accounts import load_account_names
    from patchctl.report.build import build_report
    from patchctl.report.errors import QueryFailed, ReportError
    from patchctl.report.lake_unmanaged import read_lake
    from patchctl.report.queries import DEFAULT_JSON_ROWS, report_queries
    from patchctl.report.unmanaged import load_unmanaged

    if args.sla_days is not None and not 1 <= args.sla_days <= 3650:
        return _bad(f"--sla-days {args.sla_days}: must be 1..3650")
    json_rows = DEFAULT_JSON_ROWS if args.json_rows is None else args.json_rows
    if json_rows < 0:
        return _bad(f"--json-rows {json_rows}: must be 0 or more")
    if args.out.exists() and not args.out.is_dir():
        return _bad(f"--out {args.out}: exists and is not a directory")
    queries = report_queries(args.sla_days)
    try:
        names = load_account_names(args.accounts) if args.accounts else {}
        unmanaged = load_unmanaged(args.unmanaged) if args.unmanaged else None
        if args.athena:
            if not args.workgroup or not args.database:
                missing = " and ".join(
                    name
                    for name, value in (("--workgroup", args.workgroup), ("--database", args.database))
                    if not value
                )
                return _bad(f"--athena needs {missing}")
            runner, source = _athena_runner(args)
        else:
            if args.workgroup or args.database or args.region:
                return _bad("--workgroup/--database/--region only apply with --athena")
            from patchctl.report.duck import DuckDBSource

            runner = DuckDBSource(args.source, queries=queries)
            source = str(args.source)
        if not args.unmanaged:  # what the tag sweeps wrote into the lake
            lake = read_lake(runner)
            unmanaged = lake.instances
            print(f"report: {lake.describe()}")
        document = build_report(
            runner,
            queries,
            args.out,
            source=source,
            sla_days=args.sla_days,
            json_rows=json_rows,
            account_names=names,
            unmanaged=unmanaged,
        )
    except ReportError as exc:
        return _bad(str(exc))
    except (BotoCoreError, ClientError) as exc:
        return _bad(aws_problem(exc))
    except QueryFailed as exc:
        print(f"patchctl report: {exc}", file=sys.stderr)
        return EXIT_FAILED
    summary = document["summary"]
    print(
        f"report: {len(queries)} queries; instances={summary['instances']} responsible={summary['responsible']} "
        f"compliant={summary['compliant']} non_compliant={summary['non_compliant']} "
        f"never_scanned={summary['unreported']} unmanaged={summary['unmanaged']} exempt={summary['exempt']} "
        f"managed_node={summary['managed_node']} -> {args.out / 'index.html'}"
    )
    for type_name, reasons in sorted(document.get("skipped", {}).items()):
        counts = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
        print(f"report: skipped in {type_name}: {counts}")
    return EXIT_OK


def aws_problem(exc: Exception) -> str:
    """What the user does about an AWS SDK error, in one line (botocore's own text names
    neither the flag nor the fix, and an unhandled one is a 60-line traceback)."""
    from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError, PartialCredentialsError

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "--athena: no AWS credentials found: set AWS_PROFILE (after 'aws sso login') "
            "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is attached"
        )
    if isinstance(exc, NoRegionError):
        return "--athena: no AWS region: pass --region (the hub's home region) or set AWS_REGION"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
        message = (str(error.get("Message") or "").strip().splitlines() or [""])[0]
        return f"--athena: Athena {exc.operation_name} failed: {code}{': ' + message if message else ''}"
    return f"--athena: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}"


def _athena_runner(args: argparse.Namespace) -> tuple[Any, str]:
    import boto3

    from patchctl.report.athena import AthenaRunner

    client = boto3.client("athena", region_name=args.region) if args.region else boto3.client("athena")
    region = client.meta.region_name
    return AthenaRunner(client, args.workgroup, args.database), f"Athena {args.workgroup}/{args.database} ({region})"
