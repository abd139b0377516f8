"""The sandbox's world: accounts, API keys, risk units, wallets, liabilities, records, interest rows.

All amounts are :class:`~decimal.Decimal`. One re-entrant lock (``state.lock``)
guards every read-modify-write, so parallel repays are neither lost nor applied
twice. The JSON file format is documented in ``docs/sandbox.md``; amounts are
stored as strings so nothing goes through binary floats.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from binance_loan_sandbox.amounts import amount_text

FORMAT_VERSION = 1
DEMO = "demo"
Role = Literal["PARENT", "CREDIT", "COLLATERAL"]
WALLETS = ("MARGIN", "SPOT")
DEFAULT_PRICES = {"USDT": Decimal(1), "USDC": Decimal(1)}
DEFAULT_PERMISSIONS: dict[str, Any] = {
    "ipRestrict": False,
    "enableReading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": True,
    "enableFutures": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": False,
    "enableSpotAndMarginTrading": True,
    "enablePortfolioMarginTrading": True,
}


def _dec(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"{what}: amounts must be strings or integers in the state file, got {value!r}")
    result = Decimal(str(value))
    if not result.is_finite():
        raise ValueError(f"{what}: not a finite decimal: {value!r}")
    return result


def _text(value: Decimal) -> str:
    return amount_text(value)


@dataclass
class ApiKey:
    """An API key registered with the (simulated) exchange: HMAC secret or RSA/Ed25519 public key."""

    api_key: str
    key_type: str
    key: str
    permissions: dict[str, Any]
    create_time: int = 1747637956083

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApiKey:
        """Build from the state-file JSON form.

        :param data: the state-file JSON form.
        """
        key_type = str(data.get("keyType", "hmac")).lower()
        if key_type not in ("hmac", "rsa", "ed25519"):
            raise ValueError(f"unknown keyType {key_type!r}")
        return cls(
            api_key=str(data["apiKey"]),
            key_type=key_type,
            key=str(data["key"]),
            permissions={**DEFAULT_PERMISSIONS, **(data.get("permissions") or {})},
            create_time=int(data.get("keyCreateTime", 1747637956083)),
        )

    def to_json(self) -> dict[str, Any]:
        """The state-file JSON form (amounts as strings)."""
        return {
            "apiKey": self.api_key,
            "keyType": self.key_type,
            "key": self.key,
            "permissions": dict(self.permissions),
            "keyCreateTime": self.create_time,
        }


@dataclass
class Account:
    """A Binance (sub-)account: identity plus its optional API key."""

    name: str
    uid: int
    email: str
    role: Role
    api: ApiKey | None

    def _identity_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "uid": self.uid, "email": self.email}
        if self.api is not None:
            data.update(self.api.to_json())
        return data


def _account(data: dict[str, Any], role: Role) -> tuple[str, int, str, Role, ApiKey | None]:
    api = ApiKey.from_json(data) if data.get("apiKey") else None
    return str(data.get("name") or data["email"]), int(data["uid"]), str(data["email"]), role, api


@dataclass
class CreditAccount(Account):
    """The unit's credit account: real balances per wallet (MARGIN, SPOT) and asset."""

    margin_account_type: str = "PORTFOLIO_MARGIN"
    wallets: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    maintain_margin: dict[str, Decimal] = field(default_factory=dict)

    def balance(self, wallet: str, asset: str) -> Decimal:
        """Balance of ``asset`` in ``wallet`` (0 when absent).

        :param wallet: ``MARGIN`` or ``SPOT``.
        :param asset: the asset, e.g. ``USDT``.
        """
        return self.wallets.get(wallet, {}).get(asset, Decimal(0))

    def add(self, wallet: str, asset: str, delta: Decimal) -> None:
        """Add ``delta`` (may be negative) to a wallet balance.

        :param wallet: ``MARGIN`` or ``SPOT``.
        :param asset: the asset.
        :param delta: the change (negative to take money out).
        """
        book = self.wallets.setdefault(wallet, {})
        book[asset] = book.get(asset, Decimal(0)) + delta

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CreditAccount:
        """Build from the state-file JSON form.

        :param data: the state-file JSON form.
        """
        wallets = {
            str(w): {str(a): _dec(v, f"credit wallet {w}.{a}") for a, v in (assets or {}).items()}
            for w, assets in (data.get("wallets") or {}).items()
        }
        for name in wallets:
            if name not in WALLETS:
                raise ValueError(f"credit wallet {name!r}: expected one of {WALLETS}")
        return cls(
            *_account(data, "CREDIT"),
            margin_account_type=str(data.get("marginAccountType", "PORTFOLIO_MARGIN")),
            wallets=wallets,
            maintain_margin={
                str(w): _dec(v, f"maintainMargin {w}") for w, v in (data.get("maintainMargin") or {}).items()
            },
        )

    def to_json(self) -> dict[str, Any]:
        """The state-file JSON form (amounts as strings)."""
        return {
            **self._identity_json(),
            "marginAccountType": self.margin_account_type,
            "wallets": {w: {a: _text(v) for a, v in assets.items()} for w, assets in self.wallets.items()},
            "maintainMargin": {w: _text(v) for w, v in self.maintain_margin.items()},
        }


@dataclass
class CollateralWallet:
    """A collateral member's wallet: a fixed net equity, priced holdings, and its maintenance margin.

    Its value (``ltv-details`` ``netEquity``) is ``net_equity`` + each of ``assets`` at the state's
    prices (:func:`.valuation.wallet_equity`), so a price shock moves the unit's LTV.
    """

    account_type: str
    net_equity: Decimal
    maintain_margin: Decimal
    assets: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class CollateralAccount(Account):
    """A collateral member: valued wallets only (the sandbox does not simulate its trading)."""

    enable_spot: bool = True
    enable_margin: bool = True
    wallets: list[CollateralWallet] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CollateralAccount:
        """Build from the state-file JSON form.

        :param data: the state-file JSON form.
        """
        return cls(
            *_account(data, "COLLATERAL"),
            enable_spot=bool(data.get("enableSpot", True)),
            enable_margin=bool(data.get("enableMargin", True)),
            wallets=[
                CollateralWallet(
                    str(w["accountType"]),
                    _dec(w.get("netEquity", "0"), "netEquity"),
                    _dec(w.get("maintainMargin", "0"), "maintainMargin"),
                    {str(a): _dec(v, f"collateral asset {a}") for a, v in (w.get("assets") or {}).items()},
                )
                for w in data.get("wallets") or ()
            ],
        )

    def to_json(self) -> dict[str, Any]:
        """The state-file JSON form (amounts as strings)."""
        return {
            **self._identity_json(),
            "enableSpot": self.enable_spot,
            "enableMargin": self.enable_margin,
            "wallets": [_wallet_json(w) for w in self.wallets],
        }


def _wallet_json(wallet: CollateralWallet) -> dict[str, Any]:
    data: dict[str, Any] = {"accountType": wallet.account_type, "netEquity": _text(wallet.net_equity),
                            "maintainMargin": _text(wallet.maintain_margin)}
    if wallet.assets:  # written only when present: older state files stay byte-identical on save
        data["assets"] = {a: _text(v) for a, v in wallet.assets.items()}
    return data


@dataclass
class Debt:
    """What a unit owes in one asset (Binance's "liability"): principal and accrued, unpaid interest."""

    principal: Decimal = Decimal(0)
    interest: Decimal = Decimal(0)

    @property
    def outstanding(self) -> Decimal:
        """Principal plus interest."""
        return self.principal + self.interest


@dataclass
class RiskUnit:
    """One risk unit (loan group): its members, liabilities, rates and limits."""

    group_id: int
    status: str
    create_time: int
    close_time: int | None
    update_time: int
    credit: CreditAccount
    collateral: list[CollateralAccount]
    liabilities: dict[str, Debt]
    hourly_rates: dict[str, Decimal]
    max_allowed_borrow_limit: Decimal
    initial_ltv: Decimal
    parent_frozen: Decimal = Decimal(0)
    max_transfer_out: Decimal = Decimal(0)

    @property
    def active(self) -> bool:
        """True while the unit is not closed."""
        return self.status == "ACTIVE"

    def liability(self, asset: str) -> Debt:
        """The live liability record for ``asset`` (created empty if missing).

        :param asset: the asset owed.
        """
        return self.liabilities.setdefault(asset, Debt())

    @property
    def total_liability(self) -> Decimal:
        """Outstanding principal plus interest over all assets (asset units, unpriced)."""
        return sum((x.outstanding for x in self.liabilities.values()), Decimal(0))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RiskUnit:
        """Build from the state-file JSON form.

        :param data: the state-file JSON form.
        """
        create_time = int(data.get("createTime", 1747637956083))
        return cls(
            group_id=int(data["groupId"]),
            status=str(data.get("status", "ACTIVE")).upper(),
            create_time=create_time,
            close_time=None if data.get("closeTime") is None else int(data["closeTime"]),
            update_time=int(data.get("updateTime", create_time)),
            credit=CreditAccount.from_json(data["credit"]),
            collateral=[CollateralAccount.from_json(c) for c in data.get("collateral") or ()],
            liabilities={
                str(asset): Debt(_dec(v.get("principal", "0"), "principal"),
                                      _dec(v.get("interest", "0"), "interest"))
                for asset, v in (data.get("liabilities") or {}).items()
            },
            hourly_rates={str(a): _dec(r, f"hourlyInterestRates.{a}")
                          for a, r in (data.get("hourlyInterestRates") or {}).items()},
            max_allowed_borrow_limit=_dec(data.get("maxAllowedBorrowLimit", "0"), "maxAllowedBorrowLimit"),
            initial_ltv=_dec(data.get("initialLtv", "0.75"), "initialLtv"),
            parent_frozen=_dec(data.get("parentAccountFrozenAmount", "0"), "parentAccountFrozenAmount"),
            max_transfer_out=_dec(data.get("maxTransferOutAmount", "0"), "maxTransferOutAmount"),
        )

    def to_json(self) -> dict[str, Any]:
        """The state-file JSON form (amounts as strings)."""
        return {
            "groupId": self.group_id,
            "status": self.status,
            "createTime": self.create_time,
            "closeTime": self.close_time,
            "updateTime": self.update_time,
            "credit": self.credit.to_json(),
            "collateral": [c.to_json() for c in self.collateral],
            "liabilities": {
                a: {"principal": _text(x.principal), "interest": _text(x.interest)}
                for a, x in self.liabilities.items()
            },
            "hourlyInterestRates": {a: _text(r) for a, r in self.hourly_rates.items()},
            "maxAllowedBorrowLimit": _text(self.max_allowed_borrow_limit),
            "initialLtv": _text(self.initial_ltv),
            "parentAccountFrozenAmount": _text(self.parent_frozen),
            "maxTransferOutAmount": _text(self.max_transfer_out),
        }


@dataclass
class Record:
    """A borrow/repay transaction; ``tran_id`` is the ``transactionId`` the call returned."""

    tran_id: int
    group_id: int
    asset: str
    amount: Decimal
    type: str
    status: str
    timestamp: int
    principal: Decimal | None = None
    interest: Decimal | None = None
    visible_at: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        """Build from the state-file JSON form.

        :param data: the state-file JSON form.
        """
        return cls(
            tran_id=int(data["tranId"]),
            group_id=int(data["groupId"]),
            asset=str(data["assetName"]),
            amount=_dec(data["amount"], "record amount"),
            type=str(data["type"]),
            status=str(data.get("status", "CONFIRM")),
            timestamp=int(data["timestamp"]),
            principal=None if data.get("principal") is None else _dec(data["principal"], "principal"),
            interest=None if data.get("interest") is None else _dec(data["interest"], "interest"),
            visible_at=int(data.get("visibleAt", 0)),
        )

    def to_json(self) -> dict[str, Any]:
        """The state-file JSON form (amounts as strings)."""
        data: dict[str, Any] = {
            "tranId": self.tran_id,
            "groupId": self.group_id,
            "assetName": self.asset,
            "amount": _text(self.amount),
            "type": self.type,
            "status": self.status,
            "timestamp": self.timestamp,
        }
        if self.principal is not None:
            data["principal"] = _text(self.principal)
        if self.interest is not None:
            data["interest"] = _text(self.interest)
        if self.visible_at:
            data["visibleAt"] = self.visible_at
        return data


@dataclass
class InterestRow:
    """One hourly interest charge on one asset of one unit."""

    group_id: int
    asset: str
    principal: Decimal
    rate: Decimal
    interest: Decimal
    timestamp: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InterestRow:
        """Build from the state-file JSON form.

        :param data: the state-file JSON form.
        """
        return cls(
            group_id=int(data["groupId"]),
            asset=str(data["assetName"]),
            principal=_dec(data["principal"], "principal"),
            rate=_dec(data["interestRate"], "interestRate"),
            interest=_dec(data["interest"], "interest"),
            timestamp=int(data["interestTimestamp"]),
        )

    def to_json(self) -> dict[str, Any]:
        """The state-file JSON form (amounts as strings)."""
        return {
            "groupId": self.group_id,
            "assetName": self.asset,
            "principal": _text(self.principal),
            "interestRate": _text(self.rate),
            "interest": _text(self.interest),
            "interestTimestamp": self.timestamp,
        }


class SandboxState:
    """The whole simulated exchange state; mutate only while holding ``lock``."""

    def __init__(
        self,
        parent: Account,
        units: list[RiskUnit],
        *,
        others: list[Account] | None = None,
        records: list[Record] | None = None,
        interest_rows: list[InterestRow] | None = None,
        next_transaction_id: int = 12317283617,
        last_accrual_ms: int | None = None,
        borrowable_assets: tuple[str, ...] = ("USDT", "USDC"),
        prices: dict[str, Decimal] | None = None,
    ) -> None:
        """
        :param parent: the parent account.
        :param units: the risk units (unique groupIds).
        :param others: accounts outside any unit.
        :param records: borrow/repay records so far.
        :param interest_rows: interest charges so far.
        :param next_transaction_id: the next transactionId / tranId.
        :param last_accrual_ms: when interest was last accrued (live interest), or None.
        :param borrowable_assets: assets borrow accepts.
        :param prices: asset prices on top of USDT = USDC = 1.
        """
        self.lock = threading.RLock()
        self.parent = parent
        self.units: dict[int, RiskUnit] = {u.group_id: u for u in units}
        if len(self.units) != len(units):
            raise ValueError("duplicate groupId in state")
        self.others = list(others or [])
        self.records = list(records or [])
        self.interest_rows = list(interest_rows or [])
        self.next_transaction_id = next_transaction_id
        self.last_accrual_ms = last_accrual_ms
        self.borrowable_assets = tuple(borrowable_assets)
        self.prices = {**DEFAULT_PRICES, **(prices or {})}

    # -- lookups ---------------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        """Every account (parent, credit and collateral members, unrelated accounts)."""
        found: dict[int, Account] = {self.parent.uid: self.parent}
        for unit in self.units.values():
            found.setdefault(unit.credit.uid, unit.credit)
            for member in unit.collateral:
                found.setdefault(member.uid, member)
        for other in self.others:
            found.setdefault(other.uid, other)
        return list(found.values())

    def account(self, name: str) -> Account:
        """An account by its ``name`` (e.g. ``credit_rsa``) or e-mail.

        :param name: the account's ``name`` (e.g. ``credit_rsa``) or e-mail.
        """
        for acc in self.accounts():
            if name in (acc.name, acc.email):
                return acc
        raise KeyError(name)

    def unit(self, group_id: int) -> RiskUnit:
        """The risk unit with ``group_id`` (KeyError if unknown).

        :param group_id: the unit's groupId.
        """
        return self.units[group_id]

    def units_of_credit(self, uid: int) -> list[RiskUnit]:
        """Every unit (active or closed) whose credit account has ``uid``.

        :param uid: the credit account's UID.
        """
        return [u for u in self.units.values() if u.credit.uid == uid]

    def allocate_transaction_id(self) -> int:
        """The next transaction id (monotonic)."""
        with self.lock:
            tran_id = self.next_transaction_id
            self.next_transaction_id += 1
            return tran_id

    # -- convenience for tests and rehearsals ----------------------------------------------------

    def liability(self, group_id: int, asset: str) -> Debt:
        """A copy of the unit's current liability for ``asset``.

        :param group_id: the unit's groupId.
        :param asset: the asset owed.
        """
        with self.lock:
            current = self.units[group_id].liabilities.get(asset, Debt())
            return Debt(current.principal, current.interest)

    def balance(self, group_id: int, asset: str, wallet: str = "MARGIN") -> Decimal:
        """The credit account's balance of ``asset`` in ``wallet`` (MARGIN or SPOT).

        :param group_id: the unit's groupId.
        :param asset: the asset.
        :param wallet: ``MARGIN`` (default) or ``SPOT``.
        """
        with self.lock:
            return self.units[group_id].credit.balance(wallet, asset)

    def set_balance(self, group_id: int, asset: str, amount: Decimal | str | int, wallet: str = "MARGIN") -> None:
        """Overwrite a credit-account balance (rehearsal setup: e.g. fund the wallet before month end).

        :param group_id: the unit's groupId.
        :param asset: the asset.
        :param amount: the new balance (not negative; exact: string, int or Decimal).
        :param wallet: ``MARGIN`` (default) or ``SPOT``.
        """
        if wallet not in WALLETS:
            raise ValueError(f"wallet must be one of {WALLETS}")
        value = _dec(amount, "balance")
        if value < 0:
            raise ValueError("balance cannot be negative")
        with self.lock:
            self.units[group_id].credit.wallets.setdefault(wallet, {})[asset] = value

    def records_of(self, group_id: int | None = None) -> list[Record]:
        """Copies of the borrow/repay records (all units, or one), oldest first.

        :param group_id: one unit's groupId, or None for all units.
        """
        with self.lock:
            return [copy.copy(r) for r in self.records if group_id is None or r.group_id == group_id]

    # -- JSON ------------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SandboxState:
        """Build from the state-file JSON form.

        :param data: the state-file JSON form.
        """
        version = int(data.get("format", FORMAT_VERSION))
        if version != FORMAT_VERSION:
            raise ValueError(f"unsupported sandbox state format {version}")
        parent = Account(*_account(data["parent"], "PARENT"))
        others = [Account(*_account(o, "COLLATERAL")) for o in data.get("otherAccounts") or ()]
        return cls(
            parent,
            [RiskUnit.from_json(u) for u in data.get("riskUnits") or ()],
            others=others,
            records=[Record.from_json(r) for r in data.get("records") or ()],
            interest_rows=[InterestRow.from_json(r) for r in data.get("interestHistory") or ()],
            next_transaction_id=int(data.get("nextTransactionId", 12317283617)),
            last_accrual_ms=None if data.get("lastInterestAccrual") is None else int(data["lastInterestAccrual"]),
            borrowable_assets=tuple(data.get("borrowableAssets") or ("USDT", "USDC")),
            prices={str(a): _dec(p, f"prices.{a}") for a, p in (data.get("prices") or {}).items()},
        )

    def to_json(self) -> dict[str, Any]:
        """The state-file JSON form (amounts as strings)."""
        with self.lock:
            return {
                "format": FORMAT_VERSION,
                "nextTransactionId": self.next_transaction_id,
                "lastInterestAccrual": self.last_accrual_ms,
                "borrowableAssets": list(self.borrowable_assets),
                "prices": {a: _text(p) for a, p in self.prices.items()},
                "parent": self.parent._identity_json(),
                "otherAccounts": [o._identity_json() for o in self.others],
                "riskUnits": [u.to_json() for u in self.units.values()],
                "records": [r.to_json() for r in self.records],
                "interestHistory": [r.to_json() for r in self.interest_rows],
            }

    def snapshot(self, *, redact_secrets: bool = False) -> dict[str, Any]:
        """A consistent JSON-ready copy of everything (amounts as strings).

        :param redact_secrets: show HMAC secrets as ``***``.
        """
        data = self.to_json()
        if redact_secrets:
            _redact(data)
        return data


def _redact(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("keyType") == "hmac" and "key" in node:
            node["key"] = "***"
        for value in node.values():
            _redact(value)
    elif isinstance(node, list):
        for value in node:
            _redact(value)


def load_state(source: str | os.PathLike[str] = DEMO) -> SandboxState:
    """Load a state file, or the shipped demo state for ``"demo"``.

    :param source: a state file path, or ``"demo"``.
    """
    if str(source) == DEMO:
        text = resources.files("binance_loan_sandbox").joinpath("states/demo.json").read_text("utf-8")
    else:
        text = Path(source).read_text("utf-8")
    return SandboxState.from_json(json.loads(text))


def save_state(state: SandboxState, path: str | os.PathLike[str]) -> None:
    """Write the state as JSON atomically (temporary file then rename).

    :param state: the state to write.
    :param path: the file (replaced atomically).
    """
    target = Path(path)
    text = json.dumps(state.to_json(), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".sandbox-state-", dir=str(target.parent or Path(".")))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def demo_credentials() -> dict[str, dict[str, Any]]:
    """FAKE demo-only credentials (API key + HMAC secret or private key PEM) per demo account name."""
    text = resources.files("binance_loan_sandbox").joinpath("states/demo_credentials.json").read_text("utf-8")
    data = json.loads(text)
    return dict(data["accounts"])
