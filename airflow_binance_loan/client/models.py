"""Typed results with exact Decimal amounts and string transaction ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from airflow_binance_loan.exceptions import UnexpectedResponseError
from airflow_binance_loan.money import format_decimal, parse_decimal


def to_decimal(value: Any, name: str = "amount") -> Decimal:
    """An amount from a response: JSON number (already Decimal/int) or string, never float.

    :param value: the field's value.
    :param name: the field's name, for the error.
    """
    try:
        return parse_decimal(value, name)
    except ValueError:
        shown = value[:40] if isinstance(value, str) else value
        raise UnexpectedResponseError(f"field {name!r} is not a decimal: {shown!r}") from None


def to_id(value: Any, name: str = "transactionId") -> str:
    """A transaction id as an exact string, whether served as a JSON number or a string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return format(value, "f")
    raise UnexpectedResponseError(f"field {name!r} is not an id: {value!r}")


@dataclass(frozen=True)
class RepayResult:
    """What Binance did for a repay: ``amount`` is what it actually repaid."""

    transaction_id: str
    amount: Decimal
    asset: str
    group_id: int
    repay_from: str | None
    requested_amount: Decimal


@dataclass(frozen=True)
class BorrowResult:
    transaction_id: str
    amount: Decimal
    asset: str
    group_id: int
    status: str


@dataclass(frozen=True)
class Liability:
    asset: str
    principal: Decimal
    interest: Decimal

    @property
    def outstanding(self) -> Decimal:
        """Principal plus interest: what a full repayment must cover."""
        return self.principal + self.interest

    def to_json(self) -> dict[str, str]:
        """Plain JSON (exact decimal strings), for XCom, trigger events and reports."""
        return {"asset": self.asset, "principal": format_decimal(self.principal),
                "interest": format_decimal(self.interest), "outstanding": format_decimal(self.outstanding)}


@dataclass(frozen=True)
class Wallet:
    account_type: str
    net_equity: Decimal
    maintain_margin: Decimal


@dataclass(frozen=True)
class MemberAccount:
    email: str
    type: str
    wallets: tuple[Wallet, ...]


@dataclass(frozen=True)
class RiskUnitDetails:
    """One risk unit from ``ltv-details``."""

    group_id: int
    ltv: Decimal
    total_net_equity: Decimal
    total_maintenance_margin: Decimal
    total_liability: Decimal
    liabilities: tuple[Liability, ...]
    accounts: tuple[MemberAccount, ...] = ()
    parent_email: str = ""
    credit_email: str = ""
    update_time: int = 0
    max_allowed_borrow_limit: Decimal | None = None
    max_transfer_out_amount: Decimal | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (exact decimal strings): the unit's LTV, totals and liabilities by asset, for XCom,
        trigger events, alerts and reports."""
        return {
            "group_id": self.group_id,
            "ltv": format_decimal(self.ltv),
            "total_liability": format_decimal(self.total_liability),
            "total_net_equity": format_decimal(self.total_net_equity),
            "total_maintenance_margin": format_decimal(self.total_maintenance_margin),
            "liabilities": [item.to_json() for item in sorted(self.liabilities, key=lambda i: i.asset)],
            "update_time": self.update_time,
        }

    def liability(self, asset: str) -> Liability:
        """The liability for ``asset`` (zero when the unit owes none of it)."""
        for item in self.liabilities:
            if item.asset == asset:
                return item
        return Liability(asset, Decimal(0), Decimal(0))


@dataclass(frozen=True)
class RiskUnitMember:
    email: str
    type: str
    enable_margin: bool
    enable_spot: bool


@dataclass(frozen=True)
class ActiveRiskUnit:
    group_id: int
    members: tuple[RiskUnitMember, ...]
    create_time: int


@dataclass(frozen=True)
class BorrowRepayRecord:
    """A row of ``borrow-repay``; ``tran_id`` equals the ``transactionId`` borrow/repay returned."""

    tran_id: str
    asset: str
    amount: Decimal
    status: str
    type: str
    timestamp: int
    principal: Decimal | None = None
    interest: Decimal | None = None

    @property
    def confirmed(self) -> bool:
        return self.status == "CONFIRM"

    @property
    def is_repay(self) -> bool:
        return self.type in ("NORMAL_REPAY", "REPAY", "FORCE_REPAY")


@dataclass(frozen=True)
class InterestRecord:
    group_id: int
    asset: str
    principal: Decimal
    interest_rate: Decimal
    interest: Decimal
    interest_timestamp: int


@dataclass(frozen=True)
class ApiRestrictions:
    """The key's permissions (``/sapi/v1/account/apiRestrictions``)."""

    enable_reading: bool
    enable_spot_and_margin_trading: bool
    ip_restrict: bool
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def parse_liability(row: dict[str, Any]) -> Liability:
    return Liability(
        asset=str(row["assetName"]),
        principal=to_decimal(row.get("principal", "0"), "principal"),
        interest=to_decimal(row.get("interest", "0"), "interest"),
    )


def parse_risk_unit(row: dict[str, Any]) -> RiskUnitDetails:
    accounts = tuple(
        MemberAccount(
            email=str(acc.get("email", "")),
            type=str(acc.get("type", "")),
            wallets=tuple(
                Wallet(
                    str(w.get("accountType", "")),
                    to_decimal(w.get("netEquity", "0"), "netEquity"),
                    to_decimal(w.get("maintainMargin", "0"), "maintainMargin"),
                )
                for w in acc.get("wallets") or ()
            ),
        )
        for acc in row.get("collateralAccounts") or ()
    )
    optional = {
        key: to_decimal(row[src], src)
        for key, src in (("max_allowed_borrow_limit", "maxAllowedBorrowLimit"),
                         ("max_transfer_out_amount", "maxTransferOutAmount"))
        if row.get(src) not in (None, "")
    }
    return RiskUnitDetails(
        group_id=int(row["groupId"]),
        ltv=to_decimal(row.get("ltv", "0"), "ltv"),
        total_net_equity=to_decimal(row.get("totalNetEquity", "0"), "totalNetEquity"),
        total_maintenance_margin=to_decimal(row.get("totalMaintenanceMargin", "0"), "totalMaintenanceMargin"),
        total_liability=to_decimal(row.get("totalLiability", "0"), "totalLiability"),
        liabilities=tuple(parse_liability(x) for x in row.get("liabilities") or ()),
        accounts=accounts,
        parent_email=str(row.get("parentEmail", "")),
        credit_email=str(row.get("creditEmail", "")),
        update_time=int(row.get("updateTime", 0) or 0),
        **optional,
    )


def parse_active_unit(row: dict[str, Any]) -> ActiveRiskUnit:
    return ActiveRiskUnit(
        group_id=int(row["groupId"]),
        members=tuple(
            RiskUnitMember(
                email=str(m.get("email", "")),
                type=str(m.get("type", "")),
                enable_margin=_bool(m.get("enableMargin")),
                enable_spot=_bool(m.get("enableSpot")),
            )
            for m in row.get("members") or ()
        ),
        create_time=int(row.get("createTime", 0) or 0),
    )


def parse_record(row: dict[str, Any]) -> BorrowRepayRecord:
    return BorrowRepayRecord(
        tran_id=to_id(row["tranId"], "tranId"),
        asset=str(row.get("assetName", "")),
        amount=to_decimal(row["amount"], "amount"),
        status=str(row.get("status", "")),
        type=str(row.get("type", "")),
        timestamp=int(row.get("timestamp", 0)),
        principal=to_decimal(row["principal"], "principal") if row.get("principal") is not None else None,
        interest=to_decimal(row["interest"], "interest") if row.get("interest") is not None else None,
    )


def parse_interest(row: dict[str, Any]) -> InterestRecord:
    return InterestRecord(
        group_id=int(row["groupId"]),
        asset=str(row.get("assetName", "")),
        principal=to_decimal(row["principal"], "principal"),
        interest_rate=to_decimal(row["interestRate"], "interestRate"),
        interest=to_decimal(row["interest"], "interest"),
        interest_timestamp=int(row.get("interestTimestamp", 0)),
    )


def parse_api_restrictions(data: dict[str, Any]) -> ApiRestrictions:
    return ApiRestrictions(
        enable_reading=_bool(data.get("enableReading")),
        enable_spot_and_margin_trading=_bool(data.get("enableSpotAndMarginTrading")),
        ip_restrict=_bool(data.get("ipRestrict")),
        raw=dict(data),
    )
