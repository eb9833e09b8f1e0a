"""checkov gate over synthesized stacks: zero unexplained findings.

    python -m policy.checkov_gate [--stacks-dir cdktf.out/stacks] [--waivers policy/waivers.toml]

checkov scans CDKTF output only with ``--framework terraform_json`` (with
``--framework terraform`` a .tf.json is scanned as nothing and passes). Each
failed check is matched to the construct path of its resource and to the
waivers; the gate fails on any unwaived finding, on a stack that produced no
check results at all, on a waiver that matches nothing, and on checkov errors.
checkov lives in its own virtual environment (.tools/checkov): it pins boto3
versions that snowflake-connector-python rejects, so it cannot share Pipfile.lock.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy.azapi_preflight import DEFAULT_TYPES_DIR, TypeCatalog, check_stacks
from stacks.config import ConfigError

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"
DEFAULT_WAIVERS = REPO / "policy" / "waivers.toml"
CHECK_ID = re.compile(r"CKV2?_[A-Z0-9]+_\d+")


@dataclass(frozen=True, kw_only=True)
class Waiver:
    check: str
    resources: tuple[str, ...]
    reason: str

    def covers(self, check_id: str, construct_path: str) -> bool:
        return check_id == self.check and any(fnmatch.fnmatchcase(construct_path, p) for p in self.resources)


@dataclass(frozen=True, kw_only=True)
class Finding:
    stack: str
    check_id: str
    check_name: str
    construct_path: str
    lines: tuple[int, int]


@dataclass(kw_only=True)
class StackResult:
    resources: int
    # Resources of a type checkov has at least one check for (not in CHECKLESS_TYPES).
    checkable: int = -1
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    waived: list[Finding] = field(default_factory=list)


def load_waivers(text: str, *, source: str) -> list[Waiver]:
    """Parse and validate the waiver file; ConfigError names the entry and the fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "(syntax)", f"not valid TOML ({error})", "fix the syntax at that line") from None
    if set(data) - {"waiver"}:
        raise ConfigError(source, ", ".join(sorted(set(data) - {"waiver"})), "unknown key", "use [[waiver]] tables")
    waivers = []
    for index, entry in enumerate(data.get("waiver", [])):
        where = f"waiver[{index}]"
        if set(entry) != {"check", "resources", "reason"}:
            raise ConfigError(source, where, f"has keys {sorted(entry)}", "give exactly check, resources and reason")
        if not isinstance(entry["check"], str) or not CHECK_ID.fullmatch(entry["check"]):
            raise ConfigError(
                source,
                f"{where}.check",
                f"{entry['check']!r} is not a checkov check id",
                "use an id like 'CKV_AZURE_33'",
            )
        resources = entry["resources"]
        if not isinstance(resources, list) or not resources or not all(isinstance(r, str) and r for r in resources):
            raise ConfigError(
                source,
                f"{where}.resources",
                "must be a non-empty list of construct path patterns",
                "list the construct paths it applies to, e.g. ['mlplatform-*/registry/registry']",
            )
        reason = entry["reason"]
        if not isinstance(reason, str) or len(reason.split()) < 8 or not reason.rstrip().endswith("."):
            raise ConfigError(
                source,
                f"{where}.reason",
                "is not a reason a reviewer can judge",
                "write at least one full sentence saying why the check does not apply",
            )
        waivers.append(Waiver(check=entry["check"], resources=tuple(resources), reason=" ".join(reason.split())))
    return waivers


# Resource types checkov 3.3.30 has no check for (no check in its package lists them among its
# supported resources). A stack made only of these legitimately produces no results; any other
# stack without results was scanned wrongly.
CHECKLESS_TYPES = frozenset({"azurerm_resource_group"})


def checkable_resources(stack_json: dict[str, Any]) -> int:
    resources = stack_json.get("resource", {})
    return sum(len(items) for resource_type, items in resources.items() if resource_type not in CHECKLESS_TYPES)


def construct_paths(stack_json: dict[str, Any]) -> dict[str, str]:
    """Logical id -> construct path, from the metadata cdktf writes into each resource."""
    return {
        logical_id: body.get("//", {}).get("metadata", {}).get("path", logical_id)
        for items in stack_json.get("resource", {}).values()
        for logical_id, body in items.items()
    }


def run_checkov(checkov: Path, stacks_dir: Path) -> dict[str, Any]:
    if not checkov.is_file():
        raise SystemExit(f"error: checkov not found at {checkov}; fix: run `make install` (it creates .tools/checkov)")
    command = [str(checkov), "-d", str(stacks_dir), "--framework", "terraform_json", "-o", "json", "--skip-download"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        first = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"error: checkov did not produce a JSON report (exit {result.returncode}): {first}") from None
    if isinstance(report, list):  # one report per framework; we ask for one
        (report,) = report
    if report.get("summary", {}).get("parsing_errors"):
        raise SystemExit(f"error: checkov could not parse {report['summary']['parsing_errors']} file(s)")
    return dict(report)


def evaluate(report: dict[str, Any], stacks_dir: Path, waivers: Sequence[Waiver]) -> dict[str, StackResult]:
    stacks = {p.parent.name: json.loads(p.read_text()) for p in sorted(stacks_dir.glob("*/cdk.tf.json"))}
    results = {
        name: StackResult(resources=len(construct_paths(doc)), checkable=checkable_resources(doc))
        for name, doc in stacks.items()
    }
    paths = {name: construct_paths(doc) for name, doc in stacks.items()}
    checks = report.get("results", {})
    for outcome in ("passed_checks", "failed_checks"):
        for check in checks.get(outcome, []):
            stack = Path(check["file_path"]).parent.name
            if stack not in results:
                continue
            if outcome == "passed_checks":
                results[stack].passed += 1
                continue
            logical_id = check["resource"].split(".", 1)[1]
            finding = Finding(
                stack=stack,
                check_id=check["check_id"],
                check_name=check["check_name"],
                construct_path=paths[stack].get(logical_id, logical_id),
                lines=(check["file_line_range"][0], check["file_line_range"][1]),
            )
            waived = any(w.covers(finding.check_id, finding.construct_path) for w in waivers)
            (results[stack].waived if waived else results[stack].failed).append(finding)
    return results


def problems(results: dict[str, StackResult], waivers: Sequence[Waiver]) -> list[str]:
    lines = []
    if not results:
        lines.append("no synthesized stacks found; fix: run `make synth` first")
    for stack, result in results.items():
        only_checkless = result.resources > 0 and result.checkable == 0
        if result.passed + len(result.failed) + len(result.waived) == 0 and not only_checkless:
            lines.append(
                f"{stack}: checkov ran no check on its {result.resources} resources "
                "(was it scanned with the wrong framework?)"
            )
        for f in result.failed:
            lines.append(
                f"{stack}: {f.check_id} {f.check_name}: {f.construct_path} "
                f"(cdk.tf.json lines {f.lines[0]}-{f.lines[1]}); fix it or add a waiver to policy/waivers.toml"
            )
    used = {(f.check_id, f.construct_path) for r in results.values() for f in r.waived}
    for waiver in waivers:
        if not any(waiver.covers(check, path) for check, path in used):
            lines.append(f"waiver {waiver.check} {list(waiver.resources)} matches no finding; fix: remove it")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="checkov gate over synthesized CDKTF stacks")
    parser.add_argument("--stacks-dir", type=Path, default=REPO / "cdktf.out" / "stacks")
    parser.add_argument("--waivers", type=Path, default=DEFAULT_WAIVERS)
    parser.add_argument("--checkov", type=Path, default=DEFAULT_CHECKOV)
    parser.add_argument("--report", type=Path, help="also write checkov's JSON report here")
    parser.add_argument("--types-dir", type=Path, default=DEFAULT_TYPES_DIR, help="azapi type definitions")
    args = parser.parse_args(argv)
    # checkov does not look inside azapi bodies; the preflight does (policy/azapi_preflight.py).
    if args.types_dir.is_dir():
        preflight = check_stacks(args.stacks_dir, TypeCatalog(args.types_dir))
        for finding in preflight:
            print(f"error: azapi preflight: {finding.line()}", file=sys.stderr)
        if preflight:
            return 1
    else:
        print(f"error: {args.types_dir}: no azapi type definitions; fix: pass --types-dir", file=sys.stderr)
        return 2
    try:
        waivers = load_waivers(args.waivers.read_text(), source=str(args.waivers.name))
    except (ConfigError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not any(args.stacks_dir.glob("*/cdk.tf.json")):  # checkov would only say the folder is missing or empty
        print(
            f"error: no synthesized stacks in {args.stacks_dir}; "
            "fix: run `make synth ENV=all` first (or `make policy`)",
            file=sys.stderr,
        )
        return 2
    report = run_checkov(args.checkov, args.stacks_dir)
    if args.report:
        args.report.write_text(json.dumps(report, indent=1))
    results = evaluate(report, args.stacks_dir, waivers)
    print(f"{'stack':18s} {'resources':>9s} {'passed':>7s} {'failed':>7s} {'waived':>7s}")
    for stack, r in results.items():
        print(f"{stack:18s} {r.resources:9d} {r.passed:7d} {len(r.failed):7d} {len(r.waived):7d}")
    found = problems(results, waivers)
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    distinct = sorted({w.check for w in waivers})
    print(f"waived check ids ({len(distinct)}): {', '.join(distinct)}; gate: {'FAILED' if found else 'passed'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
