"""``make mutation``: run the curated mutations and print a table and the score.

Exit 0 when every mutation is killed by a non-snapshot test; 1 when any survives or errors;
2 when the catalog is malformed or stale, or the unmutated tests fail.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mutation.catalog import CatalogError, check_applicable, load_catalog
from mutation.runner import Outcome, baseline, run_all

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated mutation ids (default: all)")
    parser.add_argument("--area", default="", help="only this area (stacks, policy, data_bootstrap, pipelines)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers, each on its own scratch copy")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per mutation")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--skip-baseline", action="store_true", help="do not run the unmutated tests first")
    args = parser.parse_args(argv)
    try:
        mutations = load_catalog()
        check_applicable(mutations, REPO)
    except CatalogError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    wanted = {item for item in args.only.split(",") if item}
    unknown = wanted - {mutation.id for mutation in mutations}
    if unknown:
        print(f"error: --only: unknown mutation ids {sorted(unknown)}; fix: see --list", file=sys.stderr)
        return 2
    mutations = [m for m in mutations if (not wanted or m.id in wanted) and (not args.area or m.area == args.area)]
    if args.list:
        for mutation in mutations:
            print(f"{mutation.id:44} {mutation.area:15} {mutation.reason}")
        return 0
    started = time.monotonic()
    if not args.skip_baseline:
        code, output = baseline(REPO, mutations, timeout=args.timeout * 2, workers=args.jobs)
        if code != 0:
            print(output[-3000:], file=sys.stderr)
            print("error: the tests the catalog names fail without any mutation; fix them first", file=sys.stderr)
            return 2
        print(f"baseline: the named tests pass unmutated ({time.monotonic() - started:.0f} s)", flush=True)

    def report(outcome: Outcome) -> None:
        print(f"  {outcome.verdict:8} {outcome.mutation.id} ({outcome.seconds:.1f} s)", flush=True)

    outcomes = run_all(REPO, mutations, jobs=args.jobs, timeout=args.timeout, report=report)
    print()
    print(f"| {'mutation':44} | {'area':14} | {'verdict':8} | killed by |")
    print(f"| {'-' * 44} | {'-' * 14} | {'-' * 8} | --------- |")
    for outcome in outcomes:
        print(f"| {outcome.mutation.id:44} | {outcome.mutation.area:14} | {outcome.verdict:8} | {outcome.killer} |")
    killed = sum(outcome.verdict == "killed" for outcome in outcomes)
    print(
        f"\nscore: {killed}/{len(outcomes)} killed, {len(outcomes) - killed} not killed "
        f"({time.monotonic() - started:.0f} s, {args.jobs} workers)"
    )
    return 0 if killed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
