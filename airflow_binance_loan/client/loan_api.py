"""Institutional Loan endpoint methods over a :class:`BinanceSession`, with validation first.

Every method validates its inputs before any network call or weight is spent and
returns typed objects with Decimal amounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from airflow_binance_loan.client import endpoints as ep
from airflow_binance_loan.client.intent import RequestIntent
from airflow_binance_loan.client.models import (
    ActiveRiskUnit,
    ApiRestrictions,
    BorrowRepayRecord,
    BorrowResult,
    InterestRecord,
    RepayResult,
    RiskUnitDetails,
    parse_active_unit,
    parse_api_restrictions,
    parse_interest,
    parse_record,
    parse_risk_unit,
    to_decimal,
    to_id,
)
from airflow_binance_loan.client.session import BinanceSession
from airflow_binance_loan.client.validation import (
    validate_amount,
    validate_asset,
    validate_group_id,
    validate_record_type,
    validate_repay_from,
    validate_time_ms,
)
from airflow_binance_loan.exceptions import (
    ExecutionUnknownError,
    InvalidParameterError,
    UnexpectedResponseError,
)
from airflow_binance_loan.money import format_decimal

DAY_MS = 86_400_000
PAGE_SIZE = 100
RANGE_WITH_ASSET_MS = 30 * DAY_MS
RANGE_WITHOUT_ASSET_MS = 7 * DAY_MS
MAX_RANGE_MS = 100 * DAY_MS


class LoanClient:
    """Binance Institutional Loan (risk unit) API, usable without Airflow.

    :param session: the signed, paced session the calls go through (:func:`~.connect.connect` builds one).
    """

    def __init__(self, session: BinanceSession) -> None:
        self.session = session

    def __repr__(self) -> str:
        return f"LoanClient({self.session!r})"

    @property
    def base_url(self) -> str:
        """The Binance base URL this client calls."""
        return self.session.base_url

    @property
    def key_type(self) -> str:
        """``hmac``, ``rsa`` or ``ed25519``: how requests are signed."""
        return self.session.key_type

    def close(self) -> None:
        """Close the HTTP connections (the client can still be used; it reconnects)."""
        self.session.close()

    def server_time_ms(self) -> int:
        """Binance's clock in milliseconds, from the measured offset (syncs first when stale)."""
        return self.session.server_now()

    @property
    def clock_offset_ms(self) -> float:
        """Binance's clock minus this machine's, from the last sync (0 before the first)."""
        return self.session.server_time.offset_ms

    # -- money-moving ------------------------------------------------------------------------

    def repay(
        self,
        group_id: int | str,
        asset: str,
        amount: Decimal | int | str,
        repay_from: str | None = None,
        *,
        on_send: Callable[[RequestIntent], None] | None = None,
    ) -> RepayResult:
        """Repay a risk unit (credit-account key). Binance repays min(available, requested).

        Raises :class:`ExecutionUnknownError` (never resends) when the outcome cannot be known.

        :param group_id: the risk unit.
        :param asset: the liability's asset.
        :param amount: exact amount (Decimal, int or decimal string; floats are refused).
        :param repay_from: ``MARGIN`` or ``SPOT``; omitted: Binance's default (margin).
        :param on_send: called with the exact intent just before each attempt's bytes leave; if it
            raises, nothing is sent.
        """
        gid = validate_group_id(group_id)
        code = validate_asset(asset)
        requested = validate_amount(amount)
        source = validate_repay_from(repay_from)
        params = [("groupId", gid), ("assetName", code), ("amount", requested), ("repayFrom", source)]
        sent: list[RequestIntent] = []
        data = self.session.call(
            ep.REPAY,
            params,
            intent_fields={"group_id": gid, "asset": code, "amount": format_decimal(requested)},
            on_send=_remembering(sent, on_send),
        )
        try:
            body = _expect_dict(data, ep.REPAY)
            return RepayResult(
                transaction_id=to_id(body.get("transactionId"), "transactionId"),
                amount=to_decimal(body.get("amount"), "amount"),
                asset=code,
                group_id=gid,
                repay_from=str(body["repayFrom"]) if body.get("repayFrom") else source,
                requested_amount=requested,
            )
        except UnexpectedResponseError as exc:
            raise _unknown_after_success(exc, sent, ep.REPAY) from None

    def borrow(self, group_id: int | str, asset: str, amount: Decimal | int | str) -> BorrowResult:
        """Borrow into the credit account's margin wallet (credit-account key).

        Raises :class:`ExecutionUnknownError` (never resends) when the outcome cannot be known.

        :param group_id: the risk unit.
        :param asset: the asset to borrow.
        :param amount: exact amount (Decimal, int or decimal string; floats are refused).
        """
        gid = validate_group_id(group_id)
        code = validate_asset(asset)
        requested = validate_amount(amount)
        sent: list[RequestIntent] = []
        data = self.session.call(
            ep.BORROW,
            [("groupId", gid), ("assetName", code), ("amount", requested)],
            intent_fields={"group_id": gid, "asset": code, "amount": format_decimal(requested)},
            on_send=_remembering(sent, None),
        )
        try:
            body = _expect_dict(data, ep.BORROW)
            return BorrowResult(
                transaction_id=to_id(body.get("transactionId")),
                amount=to_decimal(body.get("amount")),
                asset=code,
                group_id=gid,
                status=str(body.get("status", "")),
            )
        except UnexpectedResponseError as exc:
            raise _unknown_after_success(exc, sent, ep.BORROW) from None

    def close_risk_unit(self, group_id: int | str) -> dict[str, Any]:
        """Close a risk unit whose liabilities are all zero (parent key); Binance's answer as is.

        :param group_id: the risk unit.
        """
        gid = validate_group_id(group_id)
        return _expect_dict(self.session.call(ep.CLOSE_RISK_UNIT, [("groupId", gid)]), ep.CLOSE_RISK_UNIT)

    # -- read-only ---------------------------------------------------------------------------

    def ltv_details(self, group_id: int | str | None = None) -> list[RiskUnitDetails]:
        """Risk unit details (parent key: all units, or one; credit key: its own unit). Weight 200 (IP).

        :param group_id: one unit; omitted: every unit the key can see.
        """
        gid = None if group_id is None else validate_group_id(group_id)
        data = self.session.call(ep.LTV_DETAILS, [("groupId", gid)])
        return [parse_risk_unit(row) for row in _expect_list(data, ep.LTV_DETAILS)]

    def active_risk_units(self) -> list[ActiveRiskUnit]:
        """The parent account's active risk units with their members (parent key)."""
        data = self.session.call(ep.ACTIVE_RISK_UNITS, ())
        return [parse_active_unit(row) for row in _expect_list(data, ep.ACTIVE_RISK_UNITS)]

    def max_borrowable(self, asset: str, group_id: int | str | None = None) -> Decimal | None:
        """How much of ``asset`` the unit may still borrow; ``None`` when Binance gives no figure.

        :param asset: the asset to borrow.
        :param group_id: the risk unit (required with a parent key).
        """
        code = validate_asset(asset)
        gid = None if group_id is None else validate_group_id(group_id)
        body = _expect_dict(
            self.session.call(ep.MAX_BORROWABLE, [("groupId", gid), ("assetName", code)]), ep.MAX_BORROWABLE
        )
        value = body.get("maxBorrowableAmount")
        return None if value in (None, "") else to_decimal(value, "maxBorrowableAmount")

    def api_restrictions(self) -> ApiRestrictions:
        """The key's permissions: one cheap signed call (weight 1), used by the connection test."""
        data = self.session.call(ep.API_RESTRICTIONS, ())
        return parse_api_restrictions(_expect_dict(data, ep.API_RESTRICTIONS))

    def borrow_repay_records(
        self,
        type: str,
        group_id: int | str | None = None,
        asset: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[BorrowRepayRecord]:
        """All records in [start_time, end_time], newest first, walking every page.

        Binance limits one query to 30 days with ``asset`` and 7 days without, so longer
        ranges are split; omitted bounds default to the last 7 days like Binance.

        :param type: ``BORROW`` or ``REPAY`` (repays include Binance's ``FORCE_REPAY`` rows).
        :param group_id: one unit; omitted: every unit the key can see.
        :param asset: one asset; omitted: all.
        :param start_time: earliest record time in epoch milliseconds (inclusive).
        :param end_time: latest record time in epoch milliseconds (inclusive); omitted: Binance's now.
        """
        kind = validate_record_type(type)
        gid = None if group_id is None else validate_group_id(group_id)
        code = None if asset is None else validate_asset(asset)
        start, end = self._range(start_time, end_time)
        step = RANGE_WITH_ASSET_MS if code else RANGE_WITHOUT_ASSET_MS
        base: list[tuple[str, object]] = [("groupId", gid), ("type", kind), ("asset", code)]
        rows: list[BorrowRepayRecord] = []
        for chunk_start, chunk_end in _chunks(start, end, step):
            # Without an end, the newest chunk ends at Binance's "now", not at our estimate of it
            # (a few ms behind), so a record created a moment ago is never cut off.
            open_end = end_time is None and chunk_end == end
            rows.extend(
                parse_record(row)
                for row in self._pages(ep.BORROW_REPAY_RECORDS, base, chunk_start, None if open_end else chunk_end)
            )
        return rows

    def interest_history(
        self,
        group_id: int | str | None = None,
        asset: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[InterestRecord]:
        """Hourly interest charges in [start_time, end_time], walking every page and 100-day chunk.

        :param group_id: one unit; omitted: every unit the key can see.
        :param asset: one asset; omitted: all.
        :param start_time: earliest charge time in epoch milliseconds; omitted: 7 days before the end.
        :param end_time: latest charge time in epoch milliseconds; omitted: Binance's now.
        """
        gid = None if group_id is None else validate_group_id(group_id)
        code = None if asset is None else validate_asset(asset)
        start, end = self._range(start_time, end_time)
        rows: list[InterestRecord] = []
        for chunk_start, chunk_end in _chunks(start, end, MAX_RANGE_MS):
            rows.extend(
                parse_interest(row)
                for row in self._pages(ep.INTEREST_HISTORY, [("groupId", gid), ("asset", code)], chunk_start, chunk_end)
            )
        return rows

    def signed_request(
        self,
        method: str,
        path: str,
        params: dict[str, object] | None = None,
        weight: int = 1,
        limit_kind: ep.LimitKind = "IP",
    ) -> Any:
        """Escape hatch for endpoints not wrapped yet; non-GET calls are treated as money-moving.

        :param method: ``GET``, ``POST``, ``PUT`` or ``DELETE``.
        :param path: the path under the base URL, starting with ``/``.
        :param params: business parameters (timestamp, recvWindow and signature are added).
        :param weight: the endpoint's weight as Binance documents it.
        :param limit_kind: ``IP`` or ``UID``: which budget the weight counts against.
        """
        if not path.startswith("/"):
            raise InvalidParameterError("path", path, "must start with /")
        if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
            raise InvalidParameterError("weight", weight, "must be a positive integer")
        endpoint = ep.custom_endpoint(method, path, weight, limit_kind)
        return self.session.call(endpoint, params or {})

    # -- helpers -----------------------------------------------------------------------------

    def _range(self, start_time: int | None, end_time: int | None) -> tuple[int, int]:
        start = validate_time_ms(start_time, "start_time")
        end = validate_time_ms(end_time, "end_time")
        if end is None:
            end = self.session.server_now()
        if start is None:
            start = end - RANGE_WITHOUT_ASSET_MS
        if start > end:
            raise InvalidParameterError("start_time", start_time, f"is after end_time={end}")
        return start, end

    def _pages(
        self, endpoint: ep.Endpoint, base: Sequence[tuple[str, object]], start: int, end: int | None
    ) -> Iterator[dict[str, Any]]:
        current = 1
        seen = 0
        while True:
            params = [*base, ("startTime", start), ("endTime", end), ("current", current), ("size", PAGE_SIZE)]
            page = _expect_dict(self.session.call(endpoint, params), endpoint)
            rows = page.get("rows") or []
            if not isinstance(rows, list):
                raise UnexpectedResponseError(f"'rows' is not a list: {rows!r}", endpoint=endpoint.label)
            yield from rows
            seen += len(rows)
            total = int(page.get("total") or 0)
            if len(rows) < PAGE_SIZE or seen >= total:
                return
            current += 1


def _remembering(
    sent: list[RequestIntent], on_send: Callable[[RequestIntent], None] | None
) -> Callable[[RequestIntent], None]:
    """An ``on_send`` hook that also keeps the intent, for errors raised after the answer."""

    def hook(intent: RequestIntent) -> None:
        if on_send is not None:
            on_send(intent)
        sent.append(intent)

    return hook


def _unknown_after_success(
    exc: UnexpectedResponseError, sent: list[RequestIntent], endpoint: ep.Endpoint
) -> ExecutionUnknownError:
    """HTTP 2xx with a body we cannot read: the request may well have executed."""
    return ExecutionUnknownError(f"answered HTTP 2xx but {exc.msg}", intent=sent[-1], http_status=exc.http_status,
                                 endpoint=endpoint.label)


def _chunks(start: int, end: int, step: int) -> Iterator[tuple[int, int]]:
    """Newest-first sub-ranges of at most ``step`` ms covering [start, end]."""
    chunk_end = end
    while chunk_end >= start:
        chunk_start = max(start, chunk_end - step)
        yield chunk_start, chunk_end
        if chunk_start == start:
            return
        chunk_end = chunk_start - 1


def _expect_dict(data: Any, endpoint: ep.Endpoint) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise UnexpectedResponseError(f"expected a JSON object, got {type(data).__name__}", endpoint=endpoint.label)
    return data


def _expect_list(data: Any, endpoint: ep.Endpoint) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise UnexpectedResponseError(f"expected a JSON array of objects, got {data!r:.80}", endpoint=endpoint.label)
    return data
