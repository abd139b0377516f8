"""Binance's published facts that the sandbox plays back: routes, weights, limits, headers, error codes, messages.

Written from the project's reference notes on Binance's documentation
(``binance-institutional-loan.md`` §2, §3, §6, §13 and ``binance-signing-and-limits.md`` §4.1, §4.3,
§5, §6), **deliberately not imported from the provider's client**. The client keeps its own table
(``airflow_binance_loan.client.endpoints``); if the sandbox reused it, a wrong weight or path in
the client would be copied by the server instead of caught. The provider's test
``tests/integration/test_facts_agree.py`` compares the two tables, so a drift on either side fails
loudly. Where Binance's pages disagree (e.g. ltv-details 200 vs 3000), the value most pages give is
used and the choice is noted.

The route names (``repay``, ``ltv_details``, ...) are the sandbox's own identifiers; fault rules
and request counters use them. They match the client's names on purpose so rules read the same on
both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LimitKind = Literal["IP", "UID"]

# -- rate limits (binance-signing-and-limits.md §6.1, §4.3) -------------------------------------------

WINDOW_SECONDS = 60.0
SAPI_IP_LIMIT = 12000
"""Each IP-limited /sapi endpoint has its own budget of this much weight per minute per IP."""
SAPI_UID_LIMIT = 180000
"""Each UID-limited /sapi endpoint has its own budget of this much weight per minute per account."""
API_IP_LIMIT = 6000
"""Every /api endpoint (here only /api/v3/time) shares one budget of this much weight per minute per IP."""
SAPI_IP_HEADER = "X-SAPI-USED-IP-WEIGHT-1M"
SAPI_UID_HEADER = "X-SAPI-USED-UID-WEIGHT-1M"
API_HEADER = "X-MBX-USED-WEIGHT-1M"

# -- timestamps (binance-signing-and-limits.md §4.1, §4.2) ---------------------------------------------

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
AHEAD_TOLERANCE_MS = 1000
"""A timestamp must be earlier than server time + this."""


# -- routes (binance-institutional-loan.md §3 and §13; binance-signing-and-limits.md §4.3) --------------


@dataclass(frozen=True)
class Route:
    """One Binance REST endpoint as the sandbox serves it.

    :param name: the sandbox's identifier (fault rules, request counters).
    :param method: HTTP method.
    :param path: URL path.
    :param weight: request weight Binance charges.
    :param limit_kind: ``IP`` or ``UID``: whose budget the weight counts against.
    :param signed: False only for ``/api/v3/time``.
    """

    name: str
    method: str
    path: str
    weight: int
    limit_kind: LimitKind
    signed: bool = True

    @property
    def shares_api_budget(self) -> bool:
        """True for ``/api/*`` endpoints: one budget shared by all of them, reported in ``X-MBX-USED-WEIGHT-1M``."""
        return self.path.startswith("/api/")

    @property
    def limit(self) -> int:
        """The weight allowed per one-minute window for this endpoint's budget."""
        if self.shares_api_budget:
            return API_IP_LIMIT
        return SAPI_UID_LIMIT if self.limit_kind == "UID" else SAPI_IP_LIMIT

    @property
    def weight_header(self) -> str:
        """The response header carrying the weight used in this endpoint's budget."""
        if self.shares_api_budget:
            return API_HEADER
        return SAPI_UID_HEADER if self.limit_kind == "UID" else SAPI_IP_HEADER

    @property
    def label(self) -> str:
        """``METHOD /path``."""
        return f"{self.method} {self.path}"


_GROUP = "/sapi/v1/margin/loan-group"
_GROUPS = "/sapi/v1/margin/loan-groups"

ROUTES: tuple[Route, ...] = (
    Route("server_time", "GET", "/api/v3/time", 1, "IP", signed=False),
    Route("repay", "POST", f"{_GROUP}/repay", 3000, "UID"),
    Route("borrow", "POST", f"{_GROUP}/borrow", 3000, "UID"),
    Route("borrow_repay_records", "GET", f"{_GROUP}/borrow-repay", 10, "IP"),
    # One version of the ltv-details page says 3000 (IP); the EN and ZH pages say 200 (IP).
    Route("ltv_details", "GET", f"{_GROUP}/ltv-details", 200, "IP"),
    Route("active_risk_units", "GET", f"{_GROUPS}/activated", 10, "IP"),
    Route("closed_risk_units", "GET", f"{_GROUPS}/closed", 1, "IP"),
    Route("interest_history", "GET", f"{_GROUP}/interest-history", 10, "IP"),
    Route("max_borrowable", "GET", f"{_GROUP}/max-borrowable", 100, "IP"),
    Route("close_risk_unit", "DELETE", _GROUP, 1000, "UID"),
    Route("edit_member", "POST", f"{_GROUP}/edit-member", 1000, "UID"),
    Route("force_liquidation", "GET", f"{_GROUP}/force-liquidation", 1, "IP"),
    Route("force_liquidation_transfers", "GET", f"{_GROUP}/force-liquidation-transfer-record", 1, "IP"),
    Route("transfer_out", "POST", f"{_GROUP}/transfer-out", 1, "IP"),
    Route("interest_rebate_records", "GET", f"{_GROUP}/interest-rebate-balance/records", 100, "IP"),
    Route("api_restrictions", "GET", "/sapi/v1/account/apiRestrictions", 1, "IP"),
)
ROUTE_BY_REQUEST: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in ROUTES}
ROUTE_NAMES: frozenset[str] = frozenset(r.name for r in ROUTES)
KNOWN_PATHS: frozenset[str] = frozenset(r.path for r in ROUTES)


# -- error codes (binance-signing-and-limits.md §5.2; binance-institutional-loan.md §6.1, §6.3) ---------

UNKNOWN = -1000
TOO_MANY_REQUESTS = -1003
TIMEOUT = -1007
UNSUPPORTED_OPERATION = -1020
INVALID_TIMESTAMP = -1021
INVALID_SIGNATURE = -1022
HAS_PENDING_TRANSACTIONS = -1025
NOT_FOUND = -1099
ILLEGAL_CHARS = -1100
TOO_MANY_PARAMETERS = -1101
MANDATORY_PARAM_EMPTY_OR_MALFORMED = -1102
PARAM_EMPTY = -1105
INVALID_PARAMETER = -1130
BAD_RECV_WINDOW = -1131
BAD_API_KEY_FMT = -2014
REJECTED_MBX_KEY = -2015
BAD_DATE_RANGE = -3011
ILLEGAL_ARGUMENT = -27000
LOAN_GROUP_NOT_FOUND = -27001
BORROW_OVER_MAX = -27009
CREDIT_ACCOUNT_NOT_IN_UNIT = -27010
NO_LIABILITY = -27011
INSUFFICIENT_BALANCE = -27015
ILLEGAL_PRECISION = -27016
ASSET_NOT_BORROWABLE = -27017
LIABILITY_NOT_REPAID = -27018
PREVIOUS_TRANSACTION_PENDING = -27025

HTTP_STATUS_BY_CODE: dict[int, int] = {
    BAD_API_KEY_FMT: 401,
    REJECTED_MBX_KEY: 401,
    TOO_MANY_REQUESTS: 429,
    UNKNOWN: 500,
    TIMEOUT: 500,
}
"""Binance answers key errors with 401, rate limits with 429, unknown outcomes with 500; anything else with 400."""

# -- messages: Binance's published texts; ``{}`` / ``{name}`` are filled in at run time ----------------

MSG_UNKNOWN = "An unknown error occurred while processing the request."
MSG_TOO_MUCH_WEIGHT = (
    "Too much request weight used; current limit is {limit} request weight per {window}. "
    "Please use WebSocket Streams for live updates to avoid polling the API."
)
MSG_TIMEOUT = "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
MSG_UNSUPPORTED = "This operation is not supported."
MSG_TIMESTAMP_OLD = "Timestamp for this request is outside of the recvWindow."
MSG_TIMESTAMP_AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."
MSG_INVALID_SIGNATURE = "Signature for this request is not valid."
MSG_PENDING = "Has pending transactions."
MSG_ILLEGAL_CHARS = "Illegal characters found in a parameter."
MSG_ILLEGAL_CHARS_IN = "Illegal characters found in parameter '{name}'; legal range is '{legal}'."
MSG_DUPLICATE = "Duplicate values for a parameter detected."
MSG_MANDATORY = "Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
MSG_PARAM_EMPTY = "Parameter '{name}' was empty."
MSG_INVALID_PARAMETER = "Data sent for parameter '{name}' is not valid."
MSG_RECV_WINDOW = "recvWindow must be less than 60000"
MSG_BAD_KEY_FORMAT = "API-key format invalid."
MSG_REJECTED_KEY = "Invalid API-key, IP, or permissions for action."
MSG_BAD_DATE_RANGE = "Your input date is invalid."
MSG_ILLEGAL_ARGUMENT = "Illegal argument or invalid input."
MSG_LOAN_GROUP_NOT_FOUND = "Loan group not found"
MSG_BORROW_OVER_MAX = (
    "The requested borrow amount exceeds the maximum allowed limit. "
    "Maximum borrowable for asset {asset} is {limit}, but request {amount}."
)
MSG_CREDIT_ACCOUNT_NOT_IN_UNIT = "Credit account not found in risk unit with GroupID {group_id}."
MSG_NO_LIABILITY = "No liability found in the risk unit with GroupID {group_id}."
MSG_INSUFFICIENT_BALANCE = "Insufficient balance in balance for asset {asset}."
MSG_ILLEGAL_PRECISION = "Illegal asset quantity precision for asset {asset}."
# -27017 and -27018 have no complete English text; these are the reference's translations of the Chinese.
MSG_ASSET_NOT_BORROWABLE = "The requested loan asset: {asset} is not supported for borrowing."
MSG_LIABILITY_NOT_REPAID = (
    "The risk unit cannot be closed because liability asset {asset} in the unit has not been fully repaid; "
    "{remaining} remaining."
)
MSG_PREVIOUS_TRANSACTION_PENDING = "Please try again until the previous transaction is completed."
