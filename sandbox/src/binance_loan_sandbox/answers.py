"""What a fault puts on the wire instead of (or after) the normal answer: drops, 1007s, HTML 503s, garbage."""

from __future__ import annotations

from typing import Any

from binance_loan_sandbox import binance_facts as facts
from binance_loan_sandbox import jsonwire
from binance_loan_sandbox.errors import SandboxError
from binance_loan_sandbox.faults import FaultRule
from binance_loan_sandbox.messages import Response, error_response

HTML_503 = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
HTML_GARBAGE = b"<html><head><title>OK</title></head><body><p>Request processed.</p></body></html>"
MSG_RATE_LIMIT = facts.MSG_TOO_MUCH_WEIGHT.format(limit=facts.SAPI_IP_LIMIT, window="1 MINUTE")
# late_commit's `answer` → the commit_then_* answer it shares its wire shape with.
_LATE_AS = {"1007": "commit_then_1007", "503": "commit_then_503", "drop": "commit_then_drop"}


def before_commit(rule: FaultRule, headers: list[tuple[str, str]]) -> Response:
    """The refusal of a request that is not executed (drop_before_commit, reject_429, pending*, error).

    :param rule: the rule that fired.
    :param headers: weight headers collected so far.
    """
    if rule.action == "drop_before_commit":
        return Response(0, drop=True)
    if rule.action == "reject_429":
        error = SandboxError(facts.TOO_MANY_REQUESTS, rule.msg or MSG_RATE_LIMIT, rule.status or 429)
        return error_response(error, [*headers, ("Retry-After", str(rule.seconds))])
    if rule.action in ("pending", "pending_after_repay"):
        code = rule.code if rule.code is not None else facts.HAS_PENDING_TRANSACTIONS
        pending = code == facts.HAS_PENDING_TRANSACTIONS
        default = facts.MSG_PENDING if pending else facts.MSG_PREVIOUS_TRANSACTION_PENDING
        return error_response(SandboxError(code, rule.msg or default, rule.status or 400), headers)
    code = rule.code if rule.code is not None else facts.UNKNOWN
    return error_response(SandboxError(code, rule.msg or facts.MSG_UNKNOWN, rule.status or 500), headers)


def unknown_outcome(action: str, rule: FaultRule, headers: list[tuple[str, str]]) -> Response:
    """A dropped connection, HTTP 503 HTML page or HTTP 500 -1007: the caller cannot know what happened.

    :param action: ``commit_then_drop``, ``commit_then_503`` or ``commit_then_1007``.
    :param rule: the rule that fired (its ``status`` / ``code`` / ``msg`` override the defaults).
    :param headers: headers to keep (weight counters).
    """
    if action == "commit_then_drop":
        return Response(0, drop=True)
    if action == "commit_then_503":
        return Response(rule.status or 503, HTML_503, headers, content_type="text/html")
    error = SandboxError(rule.code or facts.TIMEOUT, rule.msg or facts.MSG_TIMEOUT, rule.status or 500)
    return error_response(error, headers)


def late_commit(rule: FaultRule, headers: list[tuple[str, str]]) -> Response:
    """The gateway's answer to a late_commit request (rule field ``answer``: 1007, 503 or drop).

    :param rule: the late_commit rule that fired.
    :param headers: weight headers collected so far.
    """
    return unknown_outcome(_LATE_AS[rule.answer or "1007"], rule, headers)


def after_commit(rule: FaultRule, response: Response, body: Any) -> Response:
    """Replace the answer of an executed request (every commit_then_* except commit_then_delay).

    :param rule: the rule that fired.
    :param response: the normal answer (success or business error).
    :param body: the handler's JSON result, or None when it raised.
    """
    if rule.action == "commit_then_garbage":
        return Response(rule.status or 200, HTML_GARBAGE, response.headers, content_type="text/html")
    if rule.action == "commit_then_no_id":
        stripped = {k: v for k, v in body.items() if k != "transactionId"} if isinstance(body, dict) else {}
        return Response(rule.status or 200, jsonwire.dumps(stripped), response.headers)
    return unknown_outcome(rule.action, rule, response.headers)
