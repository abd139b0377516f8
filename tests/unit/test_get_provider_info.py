"""Provider metadata: Airflow's schema, distribution name, entry point, modules and the connection form."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import json
import subprocess
import sys

import jsonschema
import pytest

from airflow_binance_loan import connection_fields
from airflow_binance_loan.client.budgets import HOST
from airflow_binance_loan.client.signing import KEY_TYPES
from airflow_binance_loan.client.validation import RECV_WINDOW_MAX_MS
from airflow_binance_loan.get_provider_info import get_provider_info
from airflow_binance_loan.hooks.connection_config import ConnectionConfig

DIST = "airflow-provider-binance-loan"


@pytest.fixture(scope="module")
def info() -> dict:
    return get_provider_info()


@pytest.fixture(scope="module")
def conn_type(info) -> dict:
    [entry] = info["connection-types"]
    return entry


def test_valid_against_airflow_runtime_schema(info):
    schema = json.loads((importlib.resources.files("airflow") / "provider_info.schema.json").read_text())
    jsonschema.validate(info, schema)


def test_package_name_is_the_distribution_name(info):
    dist = importlib.metadata.distribution(DIST)
    assert info["package-name"] == dist.metadata["Name"]


def test_entry_point_resolves_to_get_provider_info():
    [entry] = [e for e in importlib.metadata.entry_points(group="apache_airflow_provider") if e.dist.name == DIST]
    assert entry.load() is get_provider_info


def listed_modules() -> list[str]:
    info = get_provider_info()
    return [m for section in ("hooks", "operators", "sensors", "triggers") for item in info.get(section, [])
            for m in item["python-modules"]]


@pytest.mark.parametrize("module", listed_modules())
def test_listed_module_imports(module):
    importlib.import_module(module)


def test_hook_class_matches_the_connection_type(conn_type):
    module, _, name = conn_type["hook-class-name"].rpartition(".")
    hook = getattr(importlib.import_module(module), name)
    assert hook.conn_type == conn_type["connection-type"] == "binance_credit"
    assert conn_type["hook-name"] == hook.hook_name
    assert conn_type["hook-name"]


def test_conn_fields(conn_type):
    fields = conn_type["conn-fields"]
    assert set(fields) == set(connection_fields.BY_NAME)  # the form and the validator agree
    key_type = fields["key_type"]["schema"]
    assert {"hmac", "rsa", "ed25519"} <= set(key_type["enum"])
    assert set(key_type["enum"]) - {"hmac", "rsa", "ed25519"} <= {None}
    assert fields["private_key_passphrase"]["schema"]["format"] == "password"
    recv = fields["recv_window"]["schema"]
    assert recv["maximum"] == RECV_WINDOW_MAX_MS == 60000
    assert recv["default"] == 5000 == ConnectionConfig.__dataclass_fields__["recv_window"].default
    assert recv["minimum"] == 1
    timeout = fields["timeout"]["schema"]
    assert timeout["default"] == ConnectionConfig.__dataclass_fields__["timeout"].default
    assert "proxy" in fields
    for name, field in fields.items():
        assert field["label"], name


@pytest.mark.parametrize("name", sorted(get_provider_info()["connection-types"][0]["conn-fields"]))
def test_each_conn_field_schema_is_a_valid_json_schema(name):
    schema = get_provider_info()["connection-types"][0]["conn-fields"][name]["schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    if "default" in schema:
        validator.validate(schema["default"])
    validator.validate(None)  # every field is optional


def test_recv_window_schema_rejects_out_of_range():
    schema = get_provider_info()["connection-types"][0]["conn-fields"]["recv_window"]["schema"]
    validator = jsonschema.Draft7Validator(schema)
    assert not validator.is_valid(60001)
    assert not validator.is_valid(0)
    assert validator.is_valid(60000)


def test_ui_field_behaviour(conn_type):
    behaviour = conn_type["ui-field-behaviour"]
    assert "schema" in behaviour["hidden-fields"]
    assert "port" not in behaviour["hidden-fields"]  # the list's Test button needs a stored port (Airflow 3.3)
    assert {"login", "password", "host"} <= set(behaviour["relabeling"])
    assert behaviour["relabeling"]["login"] == "API key"
    assert "PEM" in behaviour["relabeling"]["password"]
    assert behaviour["relabeling"]["host"] == "Base URL"


@pytest.mark.parametrize("package", ["airflow_binance_loan.client", "airflow_binance_loan.repayment",
                                     "airflow_binance_loan.ltv.alerts", "airflow_binance_loan.ltv.poller",
                                     "airflow_binance_loan.books.render", "airflow_binance_loan.books.publish",
                                     "airflow_binance_loan.books.ledger"])
def test_plain_layers_do_not_import_airflow(package):
    code = (
        f"import {package}, sys; "
        "leaked = [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')]; "
        "assert not leaked, leaked"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    from airflow_binance_loan.hooks.credit import BinanceCreditHook
    from airflow_binance_loan.operators.repay import DEFAULT_CONN_ID

    assert DEFAULT_CONN_ID == BinanceCreditHook.default_conn_name


def test_form_never_shows_a_bare_null_and_shows_its_defaults(conn_type):
    """Every choice that can be empty has a label for it; every default the hook applies is shown."""
    from airflow_binance_loan.client.ratelimit import DEFAULT_MAX_WAIT_SECONDS

    fields = conn_type["conn-fields"]
    for name, field in fields.items():
        schema = field["schema"]
        if None in schema.get("enum", ()):
            assert schema["values_display"]["null"] and schema["values_display"]["null"] != "null", name
    assert fields["key_type"]["schema"]["values_display"]["null"] == "Detect from the key"
    assert fields["max_weight_wait"]["schema"]["default"] == DEFAULT_MAX_WAIT_SECONDS


def test_the_table_agrees_with_the_client():
    """The field table is the one source; what it states about the client must stay true."""
    assert tuple(value for value, _ in connection_fields.KEY_TYPE.choices) == tuple(KEY_TYPES)
    assert connection_fields.RECV_WINDOW.maximum == RECV_WINDOW_MAX_MS
    assert ConnectionConfig(api_key="k", secret="s").weight_budget == HOST
    assert ConnectionConfig(api_key="k", secret="s").max_weight_wait == connection_fields.MAX_WEIGHT_WAIT.default


def test_the_production_form_has_no_sandbox_only_settings(conn_type):
    assert "weight_window_seconds" not in conn_type["conn-fields"]


def test_a_dag_file_importing_the_operator_loads_neither_requests_nor_the_client():
    code = (
        "import sys, airflow.sdk; from airflow_binance_loan.operators.repay import DEFAULT_CONN_ID; "
        "loaded = [m for m in ('requests', 'airflow_binance_loan.client.session', "
        "'airflow_binance_loan.client.models') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    from airflow_binance_loan.hooks.credit import BinanceCreditHook
    from airflow_binance_loan.operators.repay import DEFAULT_CONN_ID

    assert DEFAULT_CONN_ID == BinanceCreditHook.default_conn_name
