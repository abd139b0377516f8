"""Fault injection for reliability tests: rules that delay, drop, fail or lag specific requests.

A rule names an endpoint (``"repay"``, ``"ltv_details"``, ... a route name from
:data:`.binance_facts.ROUTES`, or ``"*"``), an ``action`` and when it fires: ``nth`` (1-based
request numbers), ``every`` N, or ``probability`` p with a ``seed``; without a
trigger it fires on every request; ``times`` caps how often. Requests are numbered
per rule, counting only requests that passed authentication and timestamp checks
(and, for actions limited to some endpoints, only requests to those endpoints).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from binance_loan_sandbox.binance_facts import ROUTE_NAMES

MODIFIERS = frozenset({"latency", "records_lag", "distinct_tran_ids"})
BEFORE_COMMIT = frozenset({"drop_before_commit", "reject_429", "pending", "error", "pending_after_repay"})
INSTEAD_OF_COMMIT = frozenset({"late_commit", "record_failed"})
AFTER_COMMIT = frozenset({"commit_then_drop", "commit_then_503", "commit_then_1007", "commit_then_delay",
                          "commit_then_garbage", "commit_then_no_id"})
ACTIONS = MODIFIERS | BEFORE_COMMIT | INSTEAD_OF_COMMIT | AFTER_COMMIT
# Actions that fire only when the app's guard says their condition holds (see FaultPlan.decide).
CONDITIONAL = frozenset({"pending_after_repay"})
MONEY_ENDPOINTS = frozenset({"repay", "borrow"})
# Actions limited to some endpoints; with endpoint "*" they see only these (others are not even counted).
ACTION_ENDPOINTS: dict[str, frozenset[str]] = {
    "late_commit": MONEY_ENDPOINTS,
    "record_failed": MONEY_ENDPOINTS,
    "distinct_tran_ids": MONEY_ENDPOINTS,
    "commit_then_no_id": MONEY_ENDPOINTS,
    "pending_after_repay": frozenset({"repay"}),
}
LATE_ANSWERS = ("1007", "503", "drop")
ENDPOINT_NAMES = ROUTE_NAMES | {"*"}
_FIELDS = {"endpoint", "action", "nth", "every", "probability", "seed", "times", "ms", "seconds", "code",
           "status", "msg", "answer"}


def _int(data: Mapping[str, Any], name: str, default: int | None, minimum: int) -> int | None:
    value = data.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"fault rule field {name!r} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass
class FaultRule:
    """One fault rule; ``seen``/``fired`` count matching requests and firings since it was installed."""

    action: str
    endpoint: str = "*"
    nth: tuple[int, ...] | None = None
    every: int | None = None
    probability: float | None = None
    seed: int | None = None
    times: int | None = None
    ms: int = 0
    seconds: int = 1
    code: int | None = None
    status: int | None = None
    msg: str | None = None
    answer: str | None = None
    seen: int = 0
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Validate and build a rule from its JSON form (ValueError on anything unexpected).

        :param data: the rule's JSON form (``POST /sandbox/faults``).
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"fault rule must be an object, got {data!r}")
        unknown = set(data) - _FIELDS
        if unknown:
            raise ValueError(f"unknown fault rule field(s): {', '.join(sorted(unknown))}")
        action = data.get("action")
        if action not in ACTIONS:
            raise ValueError(f"fault action must be one of {', '.join(sorted(ACTIONS))}, got {action!r}")
        endpoint = data.get("endpoint", "*")
        if endpoint not in ENDPOINT_NAMES:
            raise ValueError(f"unknown endpoint {endpoint!r}: use a route name from binance_facts.ROUTES or '*'")
        allowed = ACTION_ENDPOINTS.get(action)
        if allowed is not None and endpoint != "*" and endpoint not in allowed:
            raise ValueError(f"action {action!r} applies only to endpoint(s) {', '.join(sorted(allowed))} or '*'")
        answer = data.get("answer")
        if answer is not None and action != "late_commit":
            raise ValueError("field 'answer' is only for action 'late_commit'")
        if answer is not None and answer not in LATE_ANSWERS:
            raise ValueError(f"answer must be one of {', '.join(LATE_ANSWERS)}, got {answer!r}")
        triggers = [name for name in ("nth", "every", "probability") if data.get(name) is not None]
        if len(triggers) > 1:
            raise ValueError(f"give at most one of nth / every / probability, got {triggers}")
        nth = data.get("nth")
        if nth is not None:
            if isinstance(nth, int) and not isinstance(nth, bool):
                nth = [nth]
            if not isinstance(nth, list | tuple) or not nth or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in nth
            ):
                raise ValueError(f"nth must be a list of request numbers >= 1, got {nth!r}")
        probability = data.get("probability")
        if probability is not None and (  # the admin API parses JSON fractions as Decimal
            isinstance(probability, bool) or not isinstance(probability, int | float | Decimal)
            or not 0 <= probability <= 1
        ):
            raise ValueError(f"probability must be between 0 and 1, got {probability!r}")
        code = data.get("code")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
            raise ValueError(f"code must be an integer, got {code!r}")
        msg = data.get("msg")
        if msg is not None and not isinstance(msg, str):
            raise ValueError("msg must be a string")
        rule = cls(
            action=action,
            endpoint=endpoint,
            nth=None if nth is None else tuple(nth),
            every=_int(data, "every", None, 1),
            probability=None if probability is None else float(probability),
            seed=_int(data, "seed", None, 0),
            times=_int(data, "times", None, 0),
            ms=_int(data, "ms", 0, 0) or 0,
            seconds=_int(data, "seconds", 1, 0) or 0,
            code=code,
            status=_int(data, "status", None, 100),
            msg=msg,
            answer=answer if answer is not None else ("1007" if action == "late_commit" else None),
        )
        rule._rng = random.Random(rule.seed)
        return rule

    def to_json(self) -> dict[str, Any]:
        """JSON form of the rule(s), with ``seen`` / ``fired`` counters."""
        data: dict[str, Any] = {"endpoint": self.endpoint, "action": self.action}
        for name in ("every", "probability", "seed", "times", "code", "status", "msg", "answer"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.nth is not None:
            data["nth"] = list(self.nth)
        if self.ms:
            data["ms"] = self.ms
        if self.action == "reject_429":
            data["seconds"] = self.seconds
        data["seen"] = self.seen
        data["fired"] = self.fired
        return data

    def _triggered(self) -> bool:
        if self.nth is not None:
            return self.seen in self.nth
        if self.every is not None:
            return self.seen % self.every == 0
        if self.probability is not None:
            return self._rng.random() < self.probability
        return True

    def _exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def applies_to(self, endpoint_name: str) -> bool:
        """True when a request to ``endpoint_name`` counts against this rule.

        :param endpoint_name: the route name (:data:`.binance_facts.ROUTES`).
        """
        if self.endpoint not in ("*", endpoint_name):
            return False
        allowed = ACTION_ENDPOINTS.get(self.action)
        return allowed is None or endpoint_name in allowed


@dataclass
class FaultDecision:
    """What to do with one request: added latency, record lag, distinct ids, and at most one failing action."""

    latency_ms: int = 0
    records_lag_ms: int = 0
    distinct_tran_ids: bool = False
    before_commit: FaultRule | None = None
    instead_of_commit: FaultRule | None = None
    after_commit: FaultRule | None = None

    @property
    def terminal(self) -> FaultRule | None:
        """The one non-modifier rule that fired, if any."""
        return self.before_commit or self.instead_of_commit or self.after_commit


class FaultPlan:
    """The current rule list (thread-safe); replaced as a whole, like the admin endpoint does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def set(self, rules: Iterable[Mapping[str, Any] | FaultRule]) -> None:
        """Replace all rules (validated first: nothing changes when one rule is invalid).

        :param rules: JSON-shaped dicts or FaultRule objects.
        """
        built = [r if isinstance(r, FaultRule) else FaultRule.from_json(r) for r in rules]
        with self._lock:
            self._rules = built

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules = []

    def rules(self) -> list[FaultRule]:
        """A copy of the current rules."""
        with self._lock:
            return list(self._rules)

    def to_json(self) -> list[dict[str, Any]]:
        """JSON form of the rule(s), with ``seen`` / ``fired`` counters."""
        with self._lock:
            return [r.to_json() for r in self._rules]

    def decide(self, endpoint_name: str, guard: Callable[[FaultRule], bool] | None = None) -> FaultDecision:
        """Count this request against every rule for the endpoint and collect what fires.

        :param endpoint_name: the route name (:data:`.binance_facts.ROUTES`).
        :param guard: says whether a triggered CONDITIONAL rule's condition holds for this request
            (e.g. a recent committed repay for ``pending_after_repay``); without it they never fire.
        """
        decision = FaultDecision()
        with self._lock:
            for rule in self._rules:
                if not rule.applies_to(endpoint_name):
                    continue
                rule.seen += 1
                if rule._exhausted() or (rule.action not in MODIFIERS and decision.terminal is not None):
                    continue
                if not rule._triggered():
                    continue
                if rule.action in CONDITIONAL and (guard is None or not guard(rule)):
                    continue
                rule.fired += 1
                if rule.action == "latency":
                    decision.latency_ms += rule.ms
                elif rule.action == "records_lag":
                    decision.records_lag_ms = max(decision.records_lag_ms, rule.ms)
                elif rule.action == "distinct_tran_ids":
                    decision.distinct_tran_ids = True
                elif rule.action in BEFORE_COMMIT:
                    decision.before_commit = rule
                elif rule.action in INSTEAD_OF_COMMIT:
                    decision.instead_of_commit = rule
                else:
                    decision.after_commit = rule
        return decision
