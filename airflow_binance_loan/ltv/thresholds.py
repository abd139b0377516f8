"""LTV thresholds as exact decimals, and which risk units have crossed one.

A threshold has a direction: ``at_least`` ("LTV ≥ 0.75", e.g. to alert) or ``at_most``
("LTV ≤ 0.5", e.g. to continue once collateral was added). Levels are ratios (0.75 = 75 %), parsed
from a Decimal, an int or a decimal string; floats and anything else are refused before any
network call, with one error naming the field and the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from airflow_binance_loan.client.models import RiskUnitDetails
from airflow_binance_loan.exceptions import InvalidParameterError
from airflow_binance_loan.money import format_decimal

Direction = Literal["at_least", "at_most"]
DIRECTIONS: tuple[Direction, ...] = ("at_least", "at_most")
SYMBOLS = {"at_least": "≥", "at_most": "≤"}
#: LTV is a ratio; a level above this is almost certainly a percentage typed by mistake ("75").
MAX_LEVEL = Decimal(10)
_LEVEL_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def parse_level(value: object, field_name: str) -> Decimal:
    """An LTV level: a finite decimal ratio in [0, 10], from a Decimal, an int or a decimal string.

    :param value: the level as given.
    :param field_name: the parameter's name, for the error message.
    """
    if isinstance(value, bool | float):
        raise InvalidParameterError(field_name, value, "must be an exact decimal such as '0.75' (floats are refused)")
    if isinstance(value, str):
        if not _LEVEL_RE.match(value.strip()):
            raise InvalidParameterError(field_name, value, "must be a decimal ratio such as '0.75'")
        level = Decimal(value.strip())
    elif isinstance(value, int | Decimal):
        level = Decimal(value)
    else:
        raise InvalidParameterError(field_name, value, "must be a Decimal, an int or a decimal string")
    if not level.is_finite() or not 0 <= level <= MAX_LEVEL:
        raise InvalidParameterError(
            field_name, value, f"must be a ratio between 0 and {MAX_LEVEL} (0.75 means 75 %, not a percentage)")
    return level


@dataclass(frozen=True)
class LtvThreshold:
    """"LTV ≥ level" (``at_least``) or "LTV ≤ level" (``at_most``)."""

    direction: Direction
    level: Decimal

    def crossed(self, ltv: Decimal) -> bool:
        """Whether ``ltv`` is at or beyond the level, in this threshold's direction.

        :param ltv: the unit's LTV as Binance reports it.
        """
        return ltv >= self.level if self.direction == "at_least" else ltv <= self.level

    def describe(self) -> str:
        """``LTV ≥ 0.75``."""
        return f"LTV {SYMBOLS[self.direction]} {format_decimal(self.level)}"

    def severity_key(self, unit: RiskUnitDetails) -> Decimal:
        """Sort key putting the unit furthest beyond the level first.

        :param unit: a risk unit.
        """
        return -unit.ltv if self.direction == "at_least" else unit.ltv

    def to_json(self) -> dict[str, str]:
        """Plain form (the level as a decimal string)."""
        return {"direction": self.direction, "level": format_decimal(self.level)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LtvThreshold:
        """Rebuild from :meth:`to_json` (validated again).

        :param data: the plain form.
        """
        direction = data.get("direction")
        if direction not in DIRECTIONS:
            raise InvalidParameterError("direction", direction, f"must be one of {', '.join(DIRECTIONS)}")
        return cls(direction, parse_level(data.get("level"), f"ltv_{direction}"))


def threshold_from(ltv_at_least: object = None, ltv_at_most: object = None) -> LtvThreshold:
    """The one threshold given: ``ltv_at_least`` or ``ltv_at_most`` (None or "" means not given).

    :param ltv_at_least: fire when LTV ≥ this.
    :param ltv_at_most: fire when LTV ≤ this.
    """
    given = {name: value for name, value in (("ltv_at_least", ltv_at_least), ("ltv_at_most", ltv_at_most))
             if not (value is None or (isinstance(value, str) and not value.strip()))}
    if len(given) != 1:
        raise InvalidParameterError("ltv_at_least/ltv_at_most", given or None,
                                    "give exactly one of ltv_at_least (alert above) or ltv_at_most (wait below)")
    ((name, value),) = given.items()
    direction: Direction = "at_least" if name == "ltv_at_least" else "at_most"
    return LtvThreshold(direction, parse_level(value, name))


def crossings(units: Iterable[RiskUnitDetails], threshold: LtvThreshold) -> list[RiskUnitDetails]:
    """The units beyond the threshold, the furthest first.

    :param units: risk units from ``ltv-details``.
    :param threshold: the threshold.
    """
    return sorted((u for u in units if threshold.crossed(u.ltv)), key=threshold.severity_key)
