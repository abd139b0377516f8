"""One handler per Binance endpoint: caller rules, parameters, and the response in Binance's shape.

Handlers receive an authenticated :class:`Call` and return the JSON body (HTTP
200) or raise :class:`SandboxError`. Caller rules follow the reference's §1.3:
credit-only and parent-only endpoints refuse other keys with -2015; ltv-details
and max-borrowable answer an empty result instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from binance_loan_sandbox import binance_facts as facts
from binance_loan_sandbox import money_rules, valuation
from binance_loan_sandbox.amounts import amount_text
from binance_loan_sandbox.auth import require_permission
from binance_loan_sandbox.binance_facts import Route
from binance_loan_sandbox.errors import SandboxError, bad_date_range, mandatory, rejected_key
from binance_loan_sandbox.params import Params
from binance_loan_sandbox.state import Account, RiskUnit, SandboxState

DAY_MS = 86_400_000
TRADE_PERMISSION = "enableSpotAndMarginTrading"
READ_PERMISSION = "enableReading"
REPAY_SOURCES = ("MARGIN", "SPOT")


@dataclass(frozen=True)
class Call:
    """An authenticated request ready for its endpoint handler."""

    endpoint: Route
    params: Params
    caller: Account | None
    state: SandboxState
    now_ms: int
    records_lag_ms: int = 0

    @property
    def visible_at(self) -> int:
        """When records written by this call become visible (records_lag fault)."""
        return self.now_ms + self.records_lag_ms


Handler = Callable[[Call], Any]


# -- caller helpers --------------------------------------------------------------------------------


def _caller(call: Call) -> Account:
    if call.caller is None:
        raise rejected_key()
    return call.caller


def _require_credit(call: Call) -> Account:
    caller = _caller(call)
    if not call.state.units_of_credit(caller.uid):
        raise rejected_key()
    return caller


def _own_unit(call: Call, caller: Account, group_id: int) -> RiskUnit:
    unit = call.state.units.get(group_id)
    if unit is None:
        raise SandboxError(facts.LOAN_GROUP_NOT_FOUND, facts.MSG_LOAN_GROUP_NOT_FOUND)
    if unit.credit.uid != caller.uid:
        raise SandboxError(facts.CREDIT_ACCOUNT_NOT_IN_UNIT,
                           facts.MSG_CREDIT_ACCOUNT_NOT_IN_UNIT.format(group_id=group_id))
    return unit


def _active_unit(state: SandboxState, uid: int) -> RiskUnit | None:
    return next((u for u in state.units_of_credit(uid) if u.active), None)


def _asset(call: Call, name: str, *, required: bool) -> str | None:
    return call.params.enum(name, call.state.borrowable_assets, required=required)


# -- money-moving ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    """A borrow or repay that passed every gateway check, ready to execute now or later (late_commit)."""

    kind: str  # "repay" or "borrow"
    group_id: int
    asset: str
    amount: Decimal
    source: str  # repayFrom for a repay; always "MARGIN" for a borrow

    def to_json(self) -> dict[str, Any]:
        """JSON form (admin state dump)."""
        return {"endpoint": self.kind, "groupId": self.group_id, "assetName": self.asset,
                "amount": amount_text(self.amount), "repayFrom" if self.kind == "repay" else "wallet": self.source}


def repay_order(call: Call) -> Order:
    """Validate a repay: credit caller, parameters, trading permission, own unit (errors raise).

    :param call: the authenticated request.
    """
    caller = _require_credit(call)
    group_id = call.params.long("groupId", required=True)
    asset = _asset(call, "assetName", required=True)
    assert group_id is not None and asset is not None
    amount = call.params.amount("amount", asset)
    source = call.params.enum("repayFrom", REPAY_SOURCES) or "MARGIN"
    require_permission(caller, TRADE_PERMISSION)
    with call.state.lock:
        _own_unit(call, caller, group_id)
    return Order("repay", group_id, asset, amount, source)


def borrow_order(call: Call) -> Order:
    """Validate a borrow: credit caller, parameters, trading permission, own unit (errors raise).

    :param call: the authenticated request.
    """
    caller = _require_credit(call)
    group_id = call.params.long("groupId", required=True)
    asset = call.params.text("assetName", required=True)
    assert group_id is not None and asset is not None
    amount = call.params.amount("amount", asset)
    require_permission(caller, TRADE_PERMISSION)
    with call.state.lock:
        _own_unit(call, caller, group_id)
    return Order("borrow", group_id, asset, amount, "MARGIN")


ORDERS: dict[str, Callable[[Call], Order]] = {"repay": repay_order, "borrow": borrow_order}


def _answer(order: Order, receipt: money_rules.Receipt) -> dict[str, Any]:
    if order.kind == "repay":
        return {"transactionId": receipt.transaction_id, "amount": receipt.amount, "repayFrom": order.source}
    return {"transactionId": receipt.transaction_id, "amount": receipt.amount, "status": "success"}


def execute(state: SandboxState, order: Order, now_ms: int, visible_at: int) -> dict[str, Any]:
    """Move the money at ``now_ms`` and answer in Binance's shape (business errors such as -27015 raise).

    :param state: the sandbox state.
    :param order: a validated order.
    :param now_ms: the commit time (record timestamp).
    :param visible_at: when the record becomes visible in borrow-repay.
    """
    with state.lock:
        unit = state.unit(order.group_id)
        if order.kind == "repay":
            receipt = money_rules.repay(state, unit, order.asset, order.amount, order.source, now_ms, visible_at)
        else:
            receipt = money_rules.borrow(state, unit, order.asset, order.amount, now_ms, visible_at)
    return _answer(order, receipt)


def fail(state: SandboxState, order: Order, now_ms: int, visible_at: int) -> dict[str, Any]:
    """Answer as if executed, but move nothing and write the record with status FAILED (record_failed).

    :param state: the sandbox state.
    :param order: a validated order.
    :param now_ms: the record timestamp.
    :param visible_at: when the record becomes visible in borrow-repay.
    """
    record_type = "NORMAL_REPAY" if order.kind == "repay" else "BORROW"
    receipt = money_rules.record_failed(state, order.group_id, record_type, order.asset, order.amount, now_ms,
                                   visible_at)
    return _answer(order, receipt)


def repay(call: Call) -> Any:
    """POST loan-group/repay: repay from the credit account's MARGIN or SPOT wallet.

    :param call: the authenticated request.
    """
    return execute(call.state, repay_order(call), call.now_ms, call.visible_at)


def borrow(call: Call) -> Any:
    """POST loan-group/borrow: borrow into the credit account's MARGIN wallet.

    :param call: the authenticated request.
    """
    return execute(call.state, borrow_order(call), call.now_ms, call.visible_at)


def close_risk_unit(call: Call) -> Any:
    """DELETE loan-group: close the caller's unit once nothing is owed.

    :param call: the authenticated request.
    """
    caller = _require_credit(call)
    group_id = call.params.long("groupId", required=True)
    assert group_id is not None
    require_permission(caller, TRADE_PERMISSION)
    with call.state.lock:
        unit = _own_unit(call, caller, group_id)
        money_rules.close(call.state, unit, call.now_ms)
    return {"groupId": group_id, "status": "CLOSED"}


# -- unit queries ----------------------------------------------------------------------------------


def ltv_details(call: Call) -> Any:
    """GET loan-group/ltv-details: parent sees all units, credit its own, others nothing.

    :param call: the authenticated request.
    """
    caller = _caller(call)
    group_id = call.params.long("groupId")
    state = call.state
    with state.lock:
        if caller.uid == state.parent.uid:
            units = [u for u in state.units.values() if u.active]
        else:
            units = [u for u in state.units_of_credit(caller.uid) if u.active]
        if group_id is not None:
            units = [u for u in units if u.group_id == group_id]
        return [valuation.unit_details(state, u) for u in units]


def active_risk_units(call: Call) -> Any:
    """GET loan-groups/activated (parent only).

    :param call: the authenticated request.
    """
    caller = _caller(call)
    state = call.state
    if caller.uid != state.parent.uid:
        raise rejected_key()
    with state.lock:
        return [
            {
                "groupId": u.group_id,
                "members": [
                    {"email": u.credit.email, "type": "CREDIT", "enableMargin": True, "enableSpot": True},
                    *(
                        {"email": m.email, "type": "COLLATERAL", "enableMargin": m.enable_margin,
                         "enableSpot": m.enable_spot}
                        for m in u.collateral
                    ),
                ],
                "createTime": u.create_time,
            }
            for u in state.units.values()
            if u.active
        ]


def closed_risk_units(call: Call) -> Any:
    """GET loan-groups/closed (credit only), paged.

    :param call: the authenticated request.
    """
    caller = _require_credit(call)
    current, size = call.params.page()
    state = call.state
    with state.lock:
        closed = sorted(
            (u for u in state.units_of_credit(caller.uid) if not u.active),
            key=lambda u: u.close_time or 0,
            reverse=True,
        )
        rows = [
            {"groupId": u.group_id, "parentEmail": state.parent.email, "creditEmail": u.credit.email,
             "enabled": False, "createTime": u.create_time, "closeTime": u.close_time}
            for u in closed
        ]
    return _page(rows, current, size)


def max_borrowable(call: Call) -> Any:
    """GET loan-group/max-borrowable: string amount, or null for a caller without a matching unit.

    :param call: the authenticated request.
    """
    caller = _caller(call)
    asset = call.params.text("assetName", required=True)
    assert asset is not None
    asset = asset.upper()
    state = call.state
    if asset not in state.borrowable_assets:
        raise SandboxError(facts.ASSET_NOT_BORROWABLE, facts.MSG_ASSET_NOT_BORROWABLE.format(asset=asset))
    group_id = call.params.long("groupId")
    with state.lock:
        unit: RiskUnit | None = None
        if caller.uid == state.parent.uid:
            if group_id is None:
                raise mandatory("groupId")
            found = state.units.get(group_id)
            unit = found if found is not None and found.active else None
        else:
            own = _active_unit(state, caller.uid)
            if own is not None and group_id in (None, own.group_id):
                unit = own
        if unit is None:
            return {"maxBorrowableAmount": None}
        value = valuation.max_borrowable(state, unit, asset)
    return {"maxBorrowableAmount": f"{value:.8f}"}


def api_restrictions(call: Call) -> Any:
    """GET account/apiRestrictions: the key's permissions.

    :param call: the authenticated request.
    """
    caller = _caller(call)
    assert caller.api is not None
    return {**caller.api.permissions, "createTime": caller.api.create_time}


# -- history ---------------------------------------------------------------------------------------


def _history_unit(call: Call, caller: Account) -> RiskUnit | None:
    group_id = call.params.long("groupId")
    if group_id is None:
        return _active_unit(call.state, caller.uid)
    return _own_unit(call, caller, group_id)


def records_range(params: Params, now_ms: int, with_asset: bool) -> tuple[int, int]:
    """borrow-repay ranges: 7 days by default; at most 30 days with ``asset``, 7 without, never 100+.

    :param params: the request's parameters.
    :param now_ms: the sandbox time.
    :param with_asset: whether ``asset`` was given (30-day instead of 7-day span).
    """
    start, end = params.long("startTime"), params.long("endTime")
    span = (30 if with_asset else 7) * DAY_MS
    if start is None and end is None:
        return now_ms - 7 * DAY_MS, now_ms
    if start is None:
        assert end is not None
        return end - 7 * DAY_MS, end
    if end is None:
        return start, min(start + span, now_ms)
    if start > end or end - start > 100 * DAY_MS or end - start > span:
        raise bad_date_range()
    return start, end


def interest_range(params: Params, now_ms: int) -> tuple[int, int]:
    """interest-history ranges: 7 days by default, [max(start, now−30d), now] with start only, ≤ 100 days.

    :param params: the request's parameters.
    :param now_ms: the sandbox time.
    """
    start, end = params.long("startTime"), params.long("endTime")
    if start is None and end is None:
        return now_ms - 7 * DAY_MS, now_ms
    if start is None:
        assert end is not None
        return end - 7 * DAY_MS, end
    if end is None:
        return max(start, now_ms - 30 * DAY_MS), now_ms
    if start > end or end - start > 100 * DAY_MS:
        raise bad_date_range()
    return start, end


def _page(rows: Sequence[dict[str, Any]], current: int, size: int) -> dict[str, Any]:
    first = (current - 1) * size
    return {"total": len(rows), "rows": list(rows[first:first + size])}


def borrow_repay_records(call: Call) -> Any:
    """GET loan-group/borrow-repay (credit only): visible records, newest first, paged.

    :param call: the authenticated request.
    """
    caller = _require_credit(call)
    kind = call.params.enum("type", ("BORROW", "REPAY"), required=True)
    asset = _asset(call, "asset", required=False)
    start, end = records_range(call.params, call.now_ms, asset is not None)
    current, size = call.params.page()
    wanted = ("BORROW",) if kind == "BORROW" else ("NORMAL_REPAY", "FORCE_REPAY")
    state = call.state
    with state.lock:
        unit = _history_unit(call, caller)
        if unit is None:
            return {"total": 0, "rows": []}
        found = [
            r for r in state.records
            if r.group_id == unit.group_id and r.type in wanted and start <= r.timestamp <= end
            and (asset is None or r.asset == asset) and r.visible_at <= call.now_ms
        ]
    found.sort(key=lambda r: (r.timestamp, r.tran_id), reverse=True)
    rows: list[dict[str, Any]] = []
    for r in found:
        row: dict[str, Any] = {"tranId": r.tran_id, "assetName": r.asset, "amount": r.amount}
        if r.principal is not None:
            row["principal"] = r.principal
            row["interest"] = r.interest if r.interest is not None else Decimal(0)
        row.update({"status": r.status, "type": r.type, "timestamp": r.timestamp})
        rows.append(row)
    return _page(rows, current, size)


def interest_history(call: Call) -> Any:
    """GET loan-group/interest-history (credit only): hourly charges, newest first, paged.

    :param call: the authenticated request.
    """
    caller = _require_credit(call)
    asset = _asset(call, "asset", required=False)
    start, end = interest_range(call.params, call.now_ms)
    current, size = call.params.page()
    state = call.state
    with state.lock:
        unit = _history_unit(call, caller)
        if unit is None:
            return {"total": 0, "rows": []}
        found = [
            r for r in state.interest_rows
            if r.group_id == unit.group_id and start <= r.timestamp <= end and (asset is None or r.asset == asset)
        ]
    found.sort(key=lambda r: (r.timestamp, r.asset), reverse=True)
    rows = [
        {"groupId": r.group_id, "assetName": r.asset, "principal": r.principal, "interestRate": r.rate,
         "interest": r.interest, "interestTimestamp": r.timestamp}
        for r in found
    ]
    return _page(rows, current, size)


def empty_credit_list(call: Call) -> Any:
    """Force-liquidation lists: liquidation is not simulated, so a credit key always gets no rows.

    :param call: the authenticated request.
    """
    _require_credit(call)
    call.params.page()
    return {"total": 0, "rows": []}


def not_simulated(call: Call) -> Any:
    """Endpoints in the table that the sandbox does not model (edit-member, transfer-out, rebates).

    :param call: the authenticated request.
    """
    raise SandboxError(facts.UNSUPPORTED_OPERATION,
                       f"This operation is not supported by the sandbox: {call.endpoint.label}")


def server_time(call: Call) -> Any:
    """GET /api/v3/time: the sandbox clock.

    :param call: the authenticated request.
    """
    return {"serverTime": call.now_ms}


HANDLERS: dict[str, Handler] = {
    "server_time": server_time,
    "repay": repay,
    "borrow": borrow,
    "borrow_repay_records": borrow_repay_records,
    "ltv_details": ltv_details,
    "active_risk_units": active_risk_units,
    "closed_risk_units": closed_risk_units,
    "interest_history": interest_history,
    "max_borrowable": max_borrowable,
    "close_risk_unit": close_risk_unit,
    "edit_member": not_simulated,
    "force_liquidation": empty_credit_list,
    "force_liquidation_transfers": empty_credit_list,
    "transfer_out": not_simulated,
    "interest_rebate_records": not_simulated,
    "api_restrictions": api_restrictions,
}

# Read endpoints need "Enable Reading"; money-moving ones check the trading permission themselves.
NEEDS_READING = frozenset(HANDLERS) - {"server_time", "repay", "borrow", "close_risk_unit"}


def require_reading(endpoint: Route, caller: Account) -> None:
    """-2015 when a read endpoint is called with a key lacking Enable Reading.

    :param endpoint: the route called.
    :param caller: the calling account.
    """
    if endpoint.name in NEEDS_READING:
        require_permission(caller, READ_PERMISSION)

