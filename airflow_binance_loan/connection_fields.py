"""The ``binance_credit`` connection's extra fields: one table for the form and for validation.

:func:`~airflow_binance_loan.get_provider_info.get_provider_info` renders the table as Airflow's
declarative ``conn-fields``; :mod:`~airflow_binance_loan.hooks.connection_config` validates a
stored connection against the same table, so a default, range or label is written once.
Pure data, no import beyond the standard library: provider discovery reads it at every start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FieldKind = Literal["text", "secret", "integer", "number", "choice", "budget"]


@dataclass(frozen=True)
class ExtraField:
    """One extra field of the connection.

    :param name: the key in the connection's extra JSON.
    :param label: the form's label.
    :param description: the form's help text.
    :param kind: how the value is parsed: free text, a secret, a whole or real number, one of
        ``choices``, or a weight-budget spec.
    :param default: the value used when the field is empty (shown in the form).
    :param minimum: smallest accepted number (inclusive).
    :param maximum: largest accepted number (inclusive).
    :param unit: the unit named in range errors (``ms``, ``seconds``).
    :param choices: accepted values of a ``choice`` field, with the form's display text.
    :param pattern: the form's regular expression for a ``budget`` field (the parser has the last word).
    :param empty_label: what the form shows for an empty ``choice`` field.
    """

    name: str
    label: str
    description: str
    kind: FieldKind
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    pattern: str | None = None
    empty_label: str = "Default"

    @property
    def secret(self) -> bool:
        """Masked in logs and shown as a password field."""
        return self.kind == "secret"

    def form_schema(self) -> dict[str, Any]:
        """The JSON-schema part of Airflow's ``conn-fields`` entry for this field."""
        json_type = {"integer": "integer", "number": "number"}.get(self.kind, "string")
        schema: dict[str, Any] = {"type": [json_type, "null"]}
        if self.kind == "choice":
            schema["enum"] = [None, *(value for value, _ in self.choices)]
            schema["values_display"] = {"null": self.empty_label, **dict(self.choices)}
        if self.secret:
            schema["format"] = "password"
        if self.default is not None:
            schema["default"] = self.default
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        return schema


KEY_TYPE = ExtraField(
    "key_type", "Key type",
    "Which kind of key the secret field holds; detected from the key when left on the first choice.",
    "choice",
    choices=(("hmac", "HMAC (secret key)"), ("rsa", "RSA (PKCS#8 private key)"),
             ("ed25519", "Ed25519 (PKCS#8 private key)")),
    empty_label="Detect from the key",
)
PRIVATE_KEY_PASSPHRASE = ExtraField(
    "private_key_passphrase", "Private key passphrase", "Only for an encrypted PKCS#8 private key.", "secret",
)
RECV_WINDOW = ExtraField(
    "recv_window", "recvWindow (ms)",
    "How old a request may be when Binance's gateway receives it (and again when processing starts); older "
    "ones are rejected with -1021. It does NOT bound when an accepted request executes. At most 60000; "
    "Binance recommends 5000 or less.",
    "integer", default=5000, minimum=1, maximum=60000, unit="ms",
)
TIMEOUT = ExtraField(
    "timeout", "Request timeout (s)",
    "Read timeout per HTTP request; a write that times out is reconciled, never resent blindly.",
    "number", default=15, minimum=0.1, maximum=300, unit="seconds",
)
PROXY = ExtraField("proxy", "Proxy URL", "Optional HTTPS proxy, e.g. http://proxy.internal:3128", "text")
MAX_WEIGHT_WAIT = ExtraField(
    "max_weight_wait", "Max wait for request weight (s)",
    "Longest a call waits for Binance's per-minute weight budget before failing with a rate-limit error.",
    "number", default=150, minimum=0, maximum=3600, unit="seconds",
)
WEIGHT_BUDGET = ExtraField(
    "weight_budget", "Weight budget shared by",
    "Who shares this connection's Binance request-weight budgets. host (default): every process on this "
    "machine, through small lock files under the system temp dir. host:/dir: the same, in that directory "
    "(e.g. a volume shared by one machine's containers). process: this worker process only. "
    "redis://host:6379/0 (or rediss://): every worker on every machine using that Redis; needs the "
    "provider's [redis] extra. Choose Redis when workers on several machines (Celery, Kubernetes) share one "
    "egress IP.",
    "budget", default="host", pattern="^(process|host|host:/.*|rediss?://.+)$",
)

EXTRA_FIELDS: tuple[ExtraField, ...] = (
    KEY_TYPE, PRIVATE_KEY_PASSPHRASE, RECV_WINDOW, TIMEOUT, PROXY, MAX_WEIGHT_WAIT, WEIGHT_BUDGET,
)
BY_NAME = {f.name: f for f in EXTRA_FIELDS}


def conn_fields() -> dict[str, Any]:
    """Airflow's declarative ``conn-fields`` for the form, in table order."""
    return {f.name: {"label": f.label, "description": f.description, "schema": f.form_schema()}
            for f in EXTRA_FIELDS}
