"""Provider metadata for Airflow's ``apache_airflow_provider`` entry point.

The connection form is declared here (``hook-name``, ``conn-fields``,
``ui-field-behaviour``) because the Airflow 3.2+ UI reads only this declarative
metadata, never Python widget methods.
"""

from __future__ import annotations

from typing import Any

PACKAGE_NAME = "airflow-provider-binance-loan"
INTEGRATION = "Binance Institutional Loan"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": PACKAGE_NAME,
        "name": INTEGRATION,
        "description": "Repay Binance Institutional Loan risk units from Airflow DAGs: signed client, "
        "weight-aware pacing and an exactly-once repay operator.",
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://developers.binance.com/docs/institutional_loan/Introduction",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": ["airflow_binance_loan.hooks.credit"]}],
        "operators": [{"integration-name": INTEGRATION, "python-modules": ["airflow_binance_loan.operators.repay"]}],
        "triggers": [
            {"integration-name": INTEGRATION, "python-modules": ["airflow_binance_loan.triggers.repay_evidence"]}
        ],
        "connection-types": [
            {
                "connection-type": "binance_credit",
                "hook-class-name": "airflow_binance_loan.hooks.credit.BinanceCreditHook",
                "hook-name": "Binance Institutional Loan",
                "ui-field-behaviour": {
                    # The port stays visible: Airflow 3.3's connection list sends port 0 for an empty port,
                    # which its API refuses as "Bad Request" when testing; a stored port (443) avoids that.
                    "hidden-fields": ["schema", "extra"],
                    "relabeling": {
                        "host": "Base URL",
                        "port": "Port (443 for Binance; needed by the list's Test button)",
                        "login": "API key",
                        "password": "Secret key (HMAC) or private key PEM (RSA / Ed25519)",
                    },
                    "placeholders": {
                        "host": "https://api.binance.com",
                        "port": "443",
                        "login": "API key of the credit account (or the parent account for read-only use)",
                        "password": "HMAC secret, or -----BEGIN PRIVATE KEY----- ...",
                    },
                },
                "conn-fields": {
                    "key_type": {
                        "label": "Key type",
                        "description": "Which kind of key the secret field holds; detected from the key when "
                        "left on the first choice.",
                        "schema": {
                            "type": ["string", "null"],
                            "enum": [None, "hmac", "rsa", "ed25519"],
                            "values_display": {
                                "null": "Detect from the key",
                                "hmac": "HMAC (secret key)",
                                "rsa": "RSA (PKCS#8 private key)",
                                "ed25519": "Ed25519 (PKCS#8 private key)",
                            },
                        },
                    },
                    "private_key_passphrase": {
                        "label": "Private key passphrase",
                        "description": "Only for an encrypted PKCS#8 private key.",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "recv_window": {
                        "label": "recvWindow (ms)",
                        "description": "How old a request may be when Binance's gateway receives it (and again "
                        "when processing starts); older ones are rejected with -1021. It does NOT bound when an "
                        "accepted request executes. At most 60000; Binance recommends 5000 or less.",
                        "schema": {"type": ["integer", "null"], "default": 5000, "minimum": 1, "maximum": 60000},
                    },
                    "timeout": {
                        "label": "Request timeout (s)",
                        "description": "Read timeout per HTTP request; a write that times out is reconciled, "
                        "never resent blindly.",
                        "schema": {"type": ["number", "null"], "default": 15, "minimum": 0.1, "maximum": 300},
                    },
                    "proxy": {
                        "label": "Proxy URL",
                        "description": "Optional HTTPS proxy, e.g. http://proxy.internal:3128",
                        "schema": {"type": ["string", "null"]},
                    },
                    "max_weight_wait": {
                        "label": "Max wait for request weight (s)",
                        "description": "Longest a call waits for Binance's per-minute weight budget before "
                        "failing with a rate-limit error.",
                        "schema": {"type": ["number", "null"], "default": 150, "minimum": 0, "maximum": 3600},
                    },
                    "weight_window_seconds": {
                        "label": "Weight window (s)",
                        "description": "Length of Binance's weight window: 60 on Binance. Set it only to match a "
                        "local sandbox started with --window-seconds.",
                        "schema": {"type": ["number", "null"], "default": 60, "exclusiveMinimum": 0, "maximum": 60},
                    },
                    "weight_budget": {
                        "label": "Weight budget shared by",
                        "description": "Who shares this connection's Binance request-weight budgets. host "
                        "(default): every process on this machine, through small lock files under the system temp "
                        "dir. host:/dir: the same, in that directory (e.g. a volume shared by one machine's "
                        "containers). process: this worker process only. redis://host:6379/0 (or rediss://): every "
                        "worker on every machine using that Redis; needs the provider's [redis] extra. Choose Redis "
                        "when workers on several machines (Celery, Kubernetes) share one egress IP.",
                        "schema": {"type": ["string", "null"], "default": "host",
                                   "pattern": "^(process|host|host:/.*|rediss?://.+)$"},
                    },
                },
            }
        ],
    }
