"""The UI in a real browser: Debian's Chromium driven by playwright (``executable_path``, no browser
download), logged in through the login form like a person. Every check saves a screenshot under
``<results>/screenshots``; the assertions are about what a person sees on those pages."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from binance_loan_sandbox import demo_credentials
from conftest import MANUAL_DAG, MONTH_END_DAG, PARENT_CONN, WRONG_SECRET_CONN
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from stack_api import AirflowApi, Sandbox, StackInfo

from airflow_binance_loan.get_provider_info import get_provider_info

UI_CONN = "binance_credit_ui"
VIEWPORT = {"width": 1440, "height": 1400}
NULL_WORD = re.compile(r"\bnull\b", re.IGNORECASE)


def binance_form() -> dict[str, Any]:
    """The provider's declarative connection form (what the UI must render)."""
    (conn_type,) = get_provider_info()["connection-types"]
    return dict(conn_type)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = os.environ.get("E2E_CHROMIUM") or shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed (e2e/stack/install.sh installs it)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, stack: StackInfo) -> Iterator[Page]:
    """A fresh browser context, signed in as ``admin`` through the simple auth manager's login form."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(stack.api_url + "/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(stack.password("admin"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/" not in url)
    yield page
    context.close()


def shot(page: Page, stack: StackInfo, name: str) -> None:
    """Save what the browser shows as ``<results>/screenshots/<name>.png``."""
    folder = stack.results_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def visible_nulls(scope: Locator) -> list[str]:
    """Visible text or visible input values that read "null"."""
    found = [line for line in scope.inner_text().splitlines() if NULL_WORD.search(line)]
    inputs = scope.locator("input:visible, textarea:visible")
    for i in range(inputs.count()):
        value = inputs.nth(i).input_value()
        if NULL_WORD.search(value):
            found.append(f"input {inputs.nth(i).get_attribute('name')}={value!r}")
    return found


def open_add_binance_connection(page: Page, stack: StackInfo) -> Locator:
    page.goto(stack.api_url + "/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("combobox").first.click()
    page.keyboard.type(binance_form()["hook-name"])
    page.keyboard.press("Enter")
    expect(dialog.get_by_text("Standard Fields")).to_be_visible()
    return dialog


def toast_after(page: Page, action: Any) -> str:
    """Run ``action`` on a page without toasts and return the text of the toast it raises (the UI's verdict)."""
    expect(page.locator("[data-scope=toast][data-part=root]")).to_have_count(0)
    action()
    toast = page.locator("[data-scope=toast][data-part=root]").first
    expect(toast).to_be_visible(timeout=60_000)
    time.sleep(0.3)
    return toast.inner_text()


# -- the connection form -------------------------------------------------------------------------------


def test_add_connection_form_for_the_binance_type(page: Page, stack: StackInfo) -> None:
    form = binance_form()
    dialog = open_add_binance_connection(page, stack)
    dialog.get_by_label("Connection ID").fill(UI_CONN)
    shot(page, stack, "01_add_connection_standard_fields")

    # Standard fields: relabelled, with placeholders; port and schema hidden.
    behaviour = form["ui-field-behaviour"]
    for field, label in behaviour["relabeling"].items():
        expect(dialog.get_by_text(label, exact=True)).to_be_visible()
        expect(dialog.locator(f"[name={field}]")).to_have_attribute("placeholder", behaviour["placeholders"][field])
    for hidden in ("Port", "Schema"):
        expect(dialog.get_by_text(hidden, exact=True)).to_have_count(0)
    # The secret is masked.
    expect(dialog.locator("input[name=password]")).to_have_attribute("type", "password")

    dialog.get_by_text("Extra Fields", exact=True).click()
    expect(dialog.get_by_text(form["conn-fields"]["key_type"]["label"], exact=True)).to_be_visible()
    time.sleep(1)  # let the accordion finish its animation before the screenshot
    shot(page, stack, "02_add_connection_extra_fields")
    problems = []
    for name, spec in form["conn-fields"].items():
        if not dialog.get_by_text(spec["label"], exact=True).is_visible():
            problems.append(f"label {spec['label']!r} not shown")
        if not dialog.get_by_text(spec["description"], exact=True).is_visible():
            problems.append(f"help text of {name} not shown: {spec['description']!r}")
        default = spec["schema"].get("default")
        field = dialog.locator(f"input[name=element_{name}]")
        if default is not None and field.input_value() != str(default):
            problems.append(f"{spec['label']} shows {field.input_value()!r}, its documented default is {default}")
    # The documented default of "Max wait for request weight" (150 s) must be what the form shows.
    max_wait = dialog.locator("input[name=element_max_weight_wait]").input_value()
    if max_wait != "150":
        problems.append(f"Max wait for request weight shows {max_wait!r}, its help says the default is 150")
    if dialog.locator("input[name=element_private_key_passphrase]").get_attribute("type") != "password":
        problems.append("the private key passphrase is not masked")
    nulls = visible_nulls(dialog)
    if nulls:
        problems.append(f"the form shows the literal 'null': {nulls}")
    assert not problems, problems


def test_connection_saved_from_the_form_and_test_buttons_show_the_verdict(
    page: Page, stack: StackInfo, api: AirflowApi, connections: dict[str, dict[str, Any]],
) -> None:
    """A person adds the connection in the form and presses Test in the connections list."""
    parent = demo_credentials()["parent"]
    api.request("DELETE", f"/connections/{UI_CONN}", expect=(204, 404))
    dialog = open_add_binance_connection(page, stack)
    dialog.get_by_label("Connection ID").fill(UI_CONN)
    dialog.locator("[name=host]").fill(stack.sandbox_url)
    dialog.locator("[name=port]").fill(str(urlsplit(stack.sandbox_url).port))
    dialog.locator("[name=login]").fill(parent["apiKey"])
    dialog.locator("[name=password]").fill(parent["secret"])
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("row").filter(has_text=UI_CONN)).to_be_visible()
    stored = api.get(f"/connections/{UI_CONN}")
    assert (stored["conn_type"], stored["host"], stored["login"]) == ("binance_credit", stack.sandbox_url,
                                                                      parent["apiKey"])
    assert parent["secret"] not in str(stored)
    shot(page, stack, "03_connection_saved_from_the_form")

    verdicts = {}
    for conn_id in (UI_CONN, PARENT_CONN, WRONG_SECRET_CONN):
        page.goto(stack.api_url + "/connections")  # a fresh page: no toast left from the previous test
        row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=conn_id, exact=True))
        verdicts[conn_id] = toast_after(page, row.get_by_role("button", name="Test Connection").click)
        shot(page, stack, f"04_test_button_{conn_id}")
    expected = {UI_CONN: f"Connected to {stack.sandbox_url}", PARENT_CONN: f"Connected to {stack.sandbox_url}",
                WRONG_SECRET_CONN: "Binance rejected the signature (code -1022)"}
    wrong = {c: verdicts[c] for c, text in expected.items() if text not in verdicts[c]}
    assert not wrong, f"the Test button does not show the provider's verdict: {wrong}"


# -- the manual DAG's trigger form ------------------------------------------------------------------------


def open_trigger_form(page: Page, stack: StackInfo, dag_id: str) -> Locator:
    page.goto(f"{stack.api_url}/dags/{dag_id}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Run Parameters")).to_be_visible()
    return dialog


def dropdown_options(page: Page, dialog: Locator, param: str) -> list[str]:
    """Open the param's dropdown and read its options (then close it again)."""
    dialog.locator(f"#element_{param}").click()
    menu = page.get_by_role("listbox").get_by_role("option")
    expect(menu.first).to_be_visible()
    options = menu.all_inner_texts()
    # Close the menu by clicking elsewhere in the dialog (Escape would close the whole dialog).
    dialog.get_by_role("heading").first.click()
    expect(menu).to_have_count(0)
    return options


def test_manual_dag_trigger_form(page: Page, stack: StackInfo, api: AirflowApi) -> None:
    dialog = open_trigger_form(page, stack, MANUAL_DAG)
    shot(page, stack, "05_trigger_form")
    problems = []
    # Dropdowns with readable labels; dry run on by default; nothing reads "null".
    if dialog.locator("#element_asset").inner_text().strip() != "USDT":
        problems.append(f"asset shows {dialog.locator('#element_asset').inner_text()!r}, expected USDT")
    assets = dropdown_options(page, dialog, "asset")
    if sorted(assets) != ["USDC", "USDT"]:
        problems.append(f"asset options {assets}")
    wallets = dropdown_options(page, dialog, "repay_from")
    if len(wallets) != 3 or not any("MARGIN" in w or "Margin" in w for w in wallets):
        problems.append(f"repay_from options {wallets}")
    if not dialog.locator("[name=element_dry_run]").is_checked():
        problems.append("Dry run is not on by default")
    nulls = visible_nulls(dialog) + [w for w in wallets if NULL_WORD.search(w)]
    if nulls:
        problems.append(f"the form shows the literal 'null': {nulls}")

    # The documented default connection (binance_credit_<groupId>): a risk unit is all a dry run needs.
    dialog.locator("[name=element_group_id]").fill("10002")
    trigger = dialog.get_by_role("button", name="Trigger")
    time.sleep(0.5)
    shot(page, stack, "06_trigger_form_only_risk_unit")
    if not trigger.is_enabled():
        problems.append("with only the risk unit filled in (connection empty = binance_credit_<groupId>, as its "
                        "help says), the form's Trigger button stays disabled")
    # What the person types is kept (no silent change of -1 into 1).
    group = dialog.locator("[name=element_group_id]")
    group.fill("-1")
    group.blur()
    if group.input_value() not in ("-1", ""):
        problems.append(f"the risk unit field silently turned -1 into {group.input_value()!r}")
    group.fill("10002")
    assert not problems, problems


def test_manual_dag_trigger_form_bad_amount(page: Page, stack: StackInfo, api: AirflowApi) -> None:
    runs_before = {r["dag_run_id"] for r in api.dag_runs(MANUAL_DAG)}
    dialog = open_trigger_form(page, stack, MANUAL_DAG)
    dialog.locator("[name=element_group_id]").fill("10002")
    dialog.locator("[name=element_binance_credit_conn_id]").fill("binance_credit_10002")
    amount = dialog.locator("[name=element_amount]")
    amount.fill("1e3")
    amount.blur()
    trigger = dialog.get_by_role("button", name="Trigger")
    if trigger.is_enabled():
        trigger.click()
    time.sleep(2)
    shot(page, stack, "07_trigger_form_bad_amount")
    # No run was created, whatever the form did.
    assert {r["dag_run_id"] for r in api.dag_runs(MANUAL_DAG)} == runs_before
    # A clear message: its headline (what a person reads first) names the amount and shows no regular
    # expression. Only the headline: below it Airflow 3.3 always prints the JSON-schema dump of the
    # param (its own "Failed validating ... in schema" text), which no DAG can change.
    lines = [line.strip() for line in dialog.inner_text().splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if "Bad Request" in line or "Invalid input" in line]
    assert errors, f"no message at all after a bad amount: {lines[:20]}"
    start = errors[0] + 1 if lines[errors[0]].endswith("Bad Request") else errors[0]
    headline = lines[start] if start < len(lines) else ""
    assert "amount" in headline.lower(), f"the message does not say the amount is wrong: {headline!r}"
    assert not re.search(r"\(\?=|\[0-9|\^\(|\$'", headline), (
        f"the message for a bad amount shows a raw regular expression: {headline!r}")


# -- the finished month-end run ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def month_end_run(api: AirflowApi) -> dict[str, Any]:
    runs = [r for r in api.dag_runs(MONTH_END_DAG) if r["dag_run_id"].startswith("e2e_month_end_")]
    if not runs:
        pytest.fail("no month-end run to look at (scenario 2, test_50_month_end, runs before this)")
    return max(runs, key=lambda r: r["run_after"])


def test_grid_view_of_the_finished_month_end_run(page: Page, stack: StackInfo, api: AirflowApi, sandbox: Sandbox,
                                                 month_end_run: dict[str, Any]) -> None:
    run_id = month_end_run["dag_run_id"]
    page.goto(f"{stack.api_url}/dags/{MONTH_END_DAG}/runs/{run_id}")
    expect(page.get_by_text(run_id).first).to_be_visible()
    expect(page.get_by_text("Failed").first).to_be_visible()
    for task_id in ("read_liabilities", "build_plan", "report"):
        expect(page.get_by_text(task_id, exact=True).first).to_be_visible()
    repays = api.task_instances(MONTH_END_DAG, run_id, "repay")
    for ti in repays:
        expect(page.get_by_role("link", name=ti["rendered_map_index"], exact=True)).to_be_visible()
    shot(page, stack, "08_month_end_grid")
    if month_end_run.get("note"):
        assert "10004" in page.inner_text("body"), "the run's note does not show the report"


def test_settlement_report_where_the_ui_shows_it(page: Page, stack: StackInfo, api: AirflowApi,
                                                 month_end_run: dict[str, Any]) -> None:
    run_id = month_end_run["dag_run_id"]
    page.goto(f"{stack.api_url}/dags/{MONTH_END_DAG}/runs/{run_id}/tasks/report")
    log = page.get_by_text("Binance month-end settlement report").first
    expect(log).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"risk unit 10004 USDT still owes")).first).to_be_visible()
    shot(page, stack, "09_month_end_report_log")
    tasks = {t["task_id"]: t for t in api.get(f"/dags/{MONTH_END_DAG}/tasks")["tasks"]}
    approvals = [t for t, spec in tasks.items() if "Approval" in (spec.get("operator_name") or "")]
    for task_id in approvals:
        page.goto(f"{stack.api_url}/dags/{MONTH_END_DAG}/runs/{run_id}/tasks/{task_id}/required_actions")
        expect(page.get_by_text("from approver").first).to_be_visible(timeout=60_000)
        for unit in ("10001", "10002", "10003", "10004"):
            expect(page.get_by_role("cell", name=unit, exact=True).first).to_be_visible()
        shot(page, stack, f"10_month_end_{task_id}_page")
