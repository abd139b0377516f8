"""The endpoint table: method, path, request weight and which limit (IP or UID) it counts against.

Binance /sapi limits are per endpoint: each IP-limited endpoint has its own
12000-per-minute budget per IP, each UID-limited endpoint its own 180000 per
minute per account. ``/api/v3/time`` counts against the shared /api IP budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LimitKind = Literal["IP", "UID"]

IP_LIMIT_PER_WINDOW = 12000
UID_LIMIT_PER_WINDOW = 180000
API_IP_LIMIT_PER_WINDOW = 6000
WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Endpoint:
    """One REST endpoint. ``mutating`` endpoints move money or state and are never resent blindly."""

    name: str
    method: str
    path: str
    weight: int
    limit_kind: LimitKind
    mutating: bool = False
    signed: bool = True
    limit: int = 0

    def __post_init__(self) -> None:
        if not self.limit:
            default = UID_LIMIT_PER_WINDOW if self.limit_kind == "UID" else IP_LIMIT_PER_WINDOW
            object.__setattr__(self, "limit", default)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


_L = "/sapi/v1/margin/loan-group"

SERVER_TIME = Endpoint("server_time", "GET", "/api/v3/time", 1, "IP", signed=False, limit=API_IP_LIMIT_PER_WINDOW)
REPAY = Endpoint("repay", "POST", f"{_L}/repay", 3000, "UID", mutating=True)
BORROW = Endpoint("borrow", "POST", f"{_L}/borrow", 3000, "UID", mutating=True)
BORROW_REPAY_RECORDS = Endpoint("borrow_repay_records", "GET", f"{_L}/borrow-repay", 10, "IP")
LTV_DETAILS = Endpoint("ltv_details", "GET", f"{_L}/ltv-details", 200, "IP")
ACTIVE_RISK_UNITS = Endpoint("active_risk_units", "GET", "/sapi/v1/margin/loan-groups/activated", 10, "IP")
CLOSED_RISK_UNITS = Endpoint("closed_risk_units", "GET", "/sapi/v1/margin/loan-groups/closed", 1, "IP")
INTEREST_HISTORY = Endpoint("interest_history", "GET", f"{_L}/interest-history", 10, "IP")
MAX_BORROWABLE = Endpoint("max_borrowable", "GET", f"{_L}/max-borrowable", 100, "IP")
CLOSE_RISK_UNIT = Endpoint("close_risk_unit", "DELETE", _L, 1000, "UID", mutating=True)
EDIT_MEMBER = Endpoint("edit_member", "POST", f"{_L}/edit-member", 1000, "UID", mutating=True)
FORCE_LIQUIDATION = Endpoint("force_liquidation", "GET", f"{_L}/force-liquidation", 1, "IP")
FORCE_LIQUIDATION_TRANSFERS = Endpoint(
    "force_liquidation_transfers", "GET", f"{_L}/force-liquidation-transfer-record", 1, "IP"
)
TRANSFER_OUT = Endpoint("transfer_out", "POST", f"{_L}/transfer-out", 1, "IP", mutating=True)
INTEREST_REBATE_RECORDS = Endpoint(
    "interest_rebate_records", "GET", f"{_L}/interest-rebate-balance/records", 100, "IP"
)
API_RESTRICTIONS = Endpoint("api_restrictions", "GET", "/sapi/v1/account/apiRestrictions", 1, "IP")

ENDPOINTS: tuple[Endpoint, ...] = (
    SERVER_TIME,
    REPAY,
    BORROW,
    BORROW_REPAY_RECORDS,
    LTV_DETAILS,
    ACTIVE_RISK_UNITS,
    CLOSED_RISK_UNITS,
    INTEREST_HISTORY,
    MAX_BORROWABLE,
    CLOSE_RISK_UNIT,
    EDIT_MEMBER,
    FORCE_LIQUIDATION,
    FORCE_LIQUIDATION_TRANSFERS,
    TRANSFER_OUT,
    INTEREST_REBATE_RECORDS,
    API_RESTRICTIONS,
)
BY_ROUTE: dict[tuple[str, str], Endpoint] = {(e.method, e.path): e for e in ENDPOINTS}


def custom_endpoint(
    method: str, path: str, weight: int, limit_kind: LimitKind = "IP", *, mutating: bool | None = None
) -> Endpoint:
    """An endpoint not in the table (the generic signed call); non-GET calls count as mutating."""
    method = method.upper()
    known = BY_ROUTE.get((method, path))
    if known is not None and known.weight == weight and known.limit_kind == limit_kind:
        return known
    return Endpoint(
        name=f"{method} {path}",
        method=method,
        path=path,
        weight=weight,
        limit_kind=limit_kind,
        mutating=(method != "GET") if mutating is None else mutating,
    )
