"""Provider metadata for Airflow's ``apache_airflow_provider`` entry point.

The connection form is declared here (``hook-name``, ``conn-fields``,
``ui-field-behaviour``) because the Airflow 3.2+ UI reads only this declarative
metadata, never Python widget methods.
"""

from __future__ import annotations

from typing import Any

from airflow_binance_loan.connection_fields import conn_fields

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
        "operators": [{"integration-name": INTEGRATION, "python-modules": ["airflow_binance_loan.operators.repay",
                                                                           "airflow_binance_loan.operators.books"]}],
        "sensors": [{"integration-name": INTEGRATION, "python-modules": ["airflow_binance_loan.sensors.ltv"]}],
        "notifications": ["airflow_binance_loan.notifications.log.LogNotifier"],
        "triggers": [
            {"integration-name": INTEGRATION, "python-modules": ["airflow_binance_loan.triggers.repay_evidence",
                                                                 "airflow_binance_loan.triggers.ltv"]}
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
                "conn-fields": conn_fields(),
            }
        ],
    }
