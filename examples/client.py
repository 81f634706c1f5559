"""Ask a running `arrears serve` for today's next actions: the kind of script a billing job would run.

    arrears serve --policies examples/policies &
    python examples/client.py examples/snapshots/small.json --policy smb-standard

It posts the snapshot file as it is (the service reads its numbers as exact
decimals), passes today's date when the snapshot carries no `as_of`, and prints
the actions and the notices to send. Only the standard library is used.
Exit codes: 0 done, 1 the service refused the request (its diagnostics are
printed), 2 the service could not be reached or the file read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


def post_snapshot(url: str, policy: str, body: bytes, as_of: str | None) -> dict[str, Any]:
    """POST the snapshot; the plan as a dict, or raise urllib.error.HTTPError with a problem+json body."""
    query = "?" + urllib.parse.urlencode({"as_of": as_of}) if as_of else ""
    endpoint = f"{url.rstrip('/')}/v1/policies/{urllib.parse.quote(policy)}/plan{query}"
    request = urllib.request.Request(endpoint, data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        plan: dict[str, Any] = json.load(response)
        return plan


def describe(action: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in action["params"].items())
    rule = action["rule"] + (f" step {action['step']}" if action["step"] is not None else "")
    return f"{action['action']}({params})  [{rule}: {action['because']}]"


def print_plan(plan: dict[str, Any]) -> None:
    policy = plan["policy"]
    print(f"Plan for {plan['as_of']} by policy {policy['id']} {policy['version'] or ''}".rstrip())
    if not plan["actions"]:
        print("  nothing to do today")
    for action in plan["actions"]:
        who = action["invoice"] or f"customer {action['customer']}"
        print(f"  {action['customer']:<8} {who:<12} {describe(action)}")
    if plan["notices"]:
        print("Notices to send:")
    for notice in plan["notices"]:
        count = len(notice["invoices"])
        money = f"{notice['currency'] or ''} {notice['total']}".strip()
        invoices = f"{count} invoice{'' if count == 1 else 's'}"
        print(f"  {notice['customer']:<8} {notice['tone']} {notice['channel']}: {invoices}, {money}")
    for error in plan.get("errors", []):
        print(f"  warning: {error['invoice'] or error['customer']}, {error['rule']}: {error['error']}", file=sys.stderr)


def print_problem(error: urllib.error.HTTPError) -> None:
    try:
        problem = json.load(error)
    except (json.JSONDecodeError, UnicodeDecodeError):
        print(f"error: HTTP {error.code} {error.reason}", file=sys.stderr)
        return
    print(f"error: {problem.get('detail', error.reason)} (HTTP {error.code})", file=sys.stderr)
    for d in problem.get("diagnostics", []):
        where = f"{d['file']}:{d['line']}:{d['column']}: " if "file" in d else ""
        hint = f" ({d['hint']})" if "hint" in d else ""
        print(f"  {where}{d['severity']}: {d['message']}{hint}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print today's next collection actions from an arrears service.")
    parser.add_argument("snapshot", type=Path, help="the snapshot JSON file (SPEC section 3)")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the service (default %(default)s)")
    parser.add_argument("--policy", default="smb-standard", help="the policy id (default %(default)s)")
    parser.add_argument("--as-of", help="the date of the run (default: the snapshot's, else today)")
    args = parser.parse_args(argv)
    try:
        body = args.snapshot.read_bytes()
    except OSError as error:
        print(f"error: cannot read {args.snapshot}: {error.strerror}", file=sys.stderr)
        return 2
    as_of = args.as_of
    if as_of is None:
        try:
            has_date = bool(json.loads(body).get("as_of"))
        except (ValueError, AttributeError):
            has_date = True  # not a JSON object: let the service say what is wrong
        as_of = None if has_date else dt.date.today().isoformat()
    try:
        plan = post_snapshot(args.url, args.policy, body, as_of)
    except urllib.error.HTTPError as error:
        print_problem(error)
        return 1
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        print(f"error: cannot reach {args.url}: {getattr(error, 'reason', error)}", file=sys.stderr)
        return 2
    print_plan(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
