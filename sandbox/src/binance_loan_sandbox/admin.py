"""Admin/inspection endpoints under ``/sandbox/`` (only when the server runs with ``admin=True``).

Unsigned and unweighted, meant for loopback rehearsals and tests: dump the
state (with pending late commits), replace/clear fault rules, skew or advance
the clock, set a balance, read or set asset prices (LTV rehearsals), read or
reset the request counters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from binance_loan_sandbox import jsonwire, valuation
from binance_loan_sandbox.amounts import amount_text
from binance_loan_sandbox.binance_facts import INVALID_PARAMETER
from binance_loan_sandbox.errors import SandboxError, not_found
from binance_loan_sandbox.messages import Request, Response, error_response

if TYPE_CHECKING:
    from binance_loan_sandbox.app import SandboxApp


def _json_body(request: Request) -> Any:
    if not request.raw_body.strip():
        return None
    try:
        return jsonwire.loads(request.raw_body)
    except ValueError:
        raise SandboxError(INVALID_PARAMETER, "Admin request body is not valid JSON.") from None


def _int_field(data: Any, name: str) -> int:
    value = data.get(name) if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SandboxError(INVALID_PARAMETER, f"Admin request needs an integer {name!r}.")
    return value


def _ok(data: Any) -> Response:
    return Response(200, jsonwire.dumps(data))


def _prices(app: SandboxApp) -> Response:
    """``{"prices": {asset: "price", ...}, "serverTime": ms}``: every price, as exact decimal strings."""
    with app.state.lock:
        prices = {asset: amount_text(price) for asset, price in app.state.prices.items()}
    return _ok({"prices": prices, "serverTime": app.clock.now_ms()})


def _set_prices(app: SandboxApp, request: Request) -> Response:
    """``POST /sandbox/prices {"prices": {"BTC": "45000.5", "ETH": 2000}}``: all or nothing, -1130 otherwise."""
    data = _json_body(request)
    if not isinstance(data, dict) or set(data) != {"prices"}:
        raise SandboxError(INVALID_PARAMETER, 'POST /sandbox/prices takes {"prices": {"BTC": "45000.5", ...}}.')
    try:
        valuation.set_prices(app.state, data["prices"])
    except ValueError as exc:
        raise SandboxError(INVALID_PARAMETER, str(exc)) from None
    return _prices(app)


def handle_admin(app: SandboxApp, request: Request) -> Response:
    """Dispatch one admin request; errors come back Binance-shaped (HTTP 400 / 404).

    :param app: the sandbox app.
    :param request: a request under ``/sandbox/``.
    """
    try:
        return _dispatch(app, request)
    except SandboxError as exc:
        return error_response(exc)
    except (ValueError, KeyError, TypeError) as exc:
        return error_response(SandboxError(INVALID_PARAMETER, f"Invalid admin request: {exc}"))


def _dispatch(app: SandboxApp, request: Request) -> Response:
    route = (request.method, request.path)
    if route == ("GET", "/sandbox/state"):
        query = parse_qs(request.raw_query.decode("ascii", "replace"))
        secrets = query.get("secrets", ["0"])[0] in ("1", "true")
        return _ok({"serverTime": app.clock.now_ms(), "state": app.state.snapshot(redact_secrets=not secrets),
                    **app.commits.to_json()})
    if route == ("GET", "/sandbox/faults"):
        return _ok({"rules": app.faults.to_json()})
    if route == ("POST", "/sandbox/faults"):
        data = _json_body(request)
        rules = data.get("rules") if isinstance(data, dict) else data
        if not isinstance(rules, list):
            raise SandboxError(INVALID_PARAMETER,
                               "POST /sandbox/faults takes a JSON list of rules (or {\"rules\": [...]}).")
        app.faults.set(rules)
        return _ok({"rules": app.faults.to_json()})
    if route == ("DELETE", "/sandbox/faults"):
        app.faults.clear()
        return _ok({"rules": []})
    if route == ("POST", "/sandbox/clock"):
        app.clock.set_skew(_int_field(_json_body(request), "skew_ms"))
        return _ok({"skewMs": app.clock.skew_ms, "serverTime": app.clock.now_ms()})
    if route == ("POST", "/sandbox/advance"):
        rows = app.advance_hours(_int_field(_json_body(request), "hours"))
        return _ok({"interestRows": rows, "serverTime": app.clock.now_ms()})
    if route == ("POST", "/sandbox/balance"):
        data = _json_body(request)
        if not isinstance(data, dict):
            raise SandboxError(INVALID_PARAMETER, "POST /sandbox/balance takes {groupId, asset, amount, wallet}.")
        group_id = _int_field(data, "groupId")
        app.state.set_balance(group_id, str(data["asset"]), str(data["amount"]), str(data.get("wallet", "MARGIN")))
        return _ok({"groupId": group_id, "balance": app.state.balance(group_id, str(data["asset"]),
                                                                      str(data.get("wallet", "MARGIN")))})
    if route == ("GET", "/sandbox/prices"):
        return _prices(app)
    if route == ("POST", "/sandbox/prices"):
        return _set_prices(app, request)
    if route == ("GET", "/sandbox/requests"):
        return _ok(app.counters())
    if route == ("DELETE", "/sandbox/requests"):
        app.reset_counters()
        return _ok(app.counters())
    raise not_found(request.path)
