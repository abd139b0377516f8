"""RepayWorkflow against the sandbox over real HTTP, on virtual time: judged from the sandbox's records.

Every scenario is one Binance really has (late commits, lagging records, ids that differ, FAILED
records, garbage answers, a records endpoint that is down, overlapping tries, two requests on one
unit); each asserts what moved in the sandbox, what the workflow reported, and what it said.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from binance_loan_sandbox import SandboxServer

from airflow_binance_loan.client import LoanClient
from airflow_binance_loan.client.ratelimit import WeightPacer
from airflow_binance_loan.exceptions import (
    JournalCorruptError,
    RepayFailedRecordError,
    RepayOutcomeUnknownError,
    RepayRejectedError,
    RepaySupersededError,
)
from airflow_binance_loan.repayment import (
    Finished,
    MemoryJournalStore,
    RepayJournal,
    RepayPolicy,
    RepayWorkflow,
    build_request,
)
from airflow_binance_loan.repayment.journal import journal_key

pytestmark = pytest.mark.integration

UNIT = 10001
AMOUNT = "1000.5"
MINUTE = 60_000


@pytest.fixture
def store() -> MemoryJournalStore:
    return MemoryJournalStore()


@pytest.fixture
def client(client_for, virtual_sandbox, virtual_clock) -> LoanClient:
    return client_for("credit_hmac", server=virtual_sandbox, clock=virtual_clock,
                      pacer=WeightPacer(virtual_clock, window_seconds=60))


@pytest.fixture
def make(client, store, virtual_clock) -> Callable[..., RepayWorkflow]:
    def build(request_id: str = "run-1/repay", amount: str = AMOUNT, try_number: int = 1,
              repay_client: LoanClient | None = None, **policy: Any) -> RepayWorkflow:
        request = build_request(UNIT, "USDT", amount)
        journal = RepayJournal(store, UNIT, "USDT", request_id, clock=virtual_clock)
        return RepayWorkflow(repay_client or client, journal, request, try_number=try_number,
                             policy=RepayPolicy(**policy), clock=virtual_clock)

    return build


def repays(server: SandboxServer) -> list[Any]:
    server.apply_due_commits()
    return [r for r in server.state.records_of(UNIT) if r.type == "NORMAL_REPAY"]


def outstanding(server: SandboxServer) -> Decimal:
    server.apply_due_commits()
    return server.state.liability(UNIT, "USDT").outstanding


def test_plain_repay_is_confirmed_by_its_record(make, virtual_sandbox):
    before = outstanding(virtual_sandbox)
    outcome = make().run()
    [record] = repays(virtual_sandbox)
    assert (outcome.status, outcome.transaction_id, outcome.repaid_amount) == ("repaid", str(record.tran_id), AMOUNT)
    assert outcome.record_status == "CONFIRM" and outcome.record_tran_id == str(record.tran_id)
    assert outstanding(virtual_sandbox) == before - Decimal(AMOUNT)


@pytest.mark.parametrize("answer", ["1007", "503", "drop"])
@pytest.mark.parametrize("commit_after_ms", [5_000, 30_000, 120_000])
def test_late_commit_is_found_and_never_resent(make, virtual_sandbox, answer, commit_after_ms):
    virtual_sandbox.set_faults([{"endpoint": "repay", "action": "late_commit", "answer": answer,
                                 "ms": commit_after_ms, "nth": [1]}])
    outcome = make().run()
    [record] = repays(virtual_sandbox)
    assert outcome.status == "reconciled"
    assert (outcome.transaction_id, outcome.repaid_amount) == (str(record.tran_id), AMOUNT)
    assert virtual_sandbox.endpoint_counts["repay"] == 1


@pytest.mark.parametrize(("commit_after_ms", "lag_ms"), [(0, 10_000), (0, MINUTE), (0, 5 * MINUTE),
                                                         (30_000, 5 * MINUTE)])
def test_records_visible_late_are_waited_for(make, virtual_sandbox, virtual_clock, commit_after_ms, lag_ms):
    fault = ({"endpoint": "repay", "action": "late_commit", "ms": commit_after_ms, "nth": [1]} if commit_after_ms
             else {"endpoint": "repay", "action": "commit_then_1007", "nth": [1]})
    virtual_sandbox.set_faults([fault, {"endpoint": "repay", "action": "records_lag", "ms": lag_ms}])
    outcome = make(amount="outstanding").run()
    [record] = repays(virtual_sandbox)
    assert outcome.status == "reconciled" and outcome.transaction_id == str(record.tran_id)
    assert Decimal(outcome.repaid_amount) == record.amount > 0
    assert virtual_sandbox.endpoint_counts["repay"] == 1
    assert virtual_clock.slept * 1000 >= commit_after_ms + lag_ms  # it really waited for the record


def test_a_liability_drop_without_a_record_is_never_taken_for_non_execution(make, virtual_sandbox):
    virtual_sandbox.set_faults([{"endpoint": "repay", "action": "commit_then_503", "nth": [1]},
                                {"endpoint": "repay", "action": "records_lag", "ms": 60 * MINUTE}])
    with pytest.raises(RepayOutcomeUnknownError) as info:
        make(resend_horizon=60, reconcile_timeout=120).run()
    message = str(info.value)
    assert "MAY HAVE EXECUTED" in message and "NOT resent" in message
    assert "liability fell" in message
    assert len(repays(virtual_sandbox)) == 1 and virtual_sandbox.endpoint_counts["repay"] == 1


def test_a_later_try_continues_the_reconciliation_instead_of_repaying(make, virtual_sandbox, virtual_clock):
    virtual_sandbox.set_faults([{"endpoint": "repay", "action": "late_commit", "ms": 3 * MINUTE, "nth": [1]},
                                {"endpoint": "repay", "action": "records_lag", "ms": 20 * MINUTE}])
    with pytest.raises(RepayOutcomeUnknownError, match="liability fell"):
        make(reconcile_timeout=600).run()
    virtual_clock.advance(30 * 60)
    outcome = make(try_number=2).run()
    [record] = repays(virtual_sandbox)
    assert outcome.status == "reconciled" and outcome.transaction_id == str(record.tran_id)
    assert virtual_sandbox.endpoint_counts["repay"] == 1


def test_provably_unsent_repay_is_resent_once_after_the_horizon(make, virtual_sandbox, virtual_clock, caplog):
    virtual_sandbox.set_faults([{"endpoint": "repay", "action": "drop_before_commit", "nth": [1]}])
    with caplog.at_level(logging.INFO, logger="airflow_binance_loan"):
        outcome = make().run()
    [record] = repays(virtual_sandbox)
    assert outcome.status == "repaid" and outcome.transaction_id == str(record.tran_id)
    assert virtual_sandbox.endpoint_counts["repay"] == 2
    assert virtual_clock.slept >= 600  # the default horizon: minutes, not recvWindow
    assert "proven NOT executed" in caplog.text and "no unexplained liability drop" in caplog.text


def test_transaction_ids_that_differ_from_record_ids_are_confirmed_by_the_unique_record(make, virtual_sandbox,
                                                                                         caplog):
    virtual_sandbox.set_faults([{"endpoint": "repay", "action": "distinct_tran_ids"}])
    with caplog.at_level(logging.INFO, logger="airflow_binance_loan"):
        outcome = make().run()
    [record] = repays(virtual_sandbox)
    assert outcome.record_tran_id == str(record.tran_id) != outcome.transaction_id
    assert outcome.status == "repaid" and outcome.repaid_amount == AMOUNT
    assert "matched by unique record for this request" in caplog.text


def test_failed_record_fails_the_try_and_a_retry_repays(make, virtual_sandbox):
    virtual_sandbox.set_faults([{"endpoint": "repay", "action": "record_failed", "nth": [1]}])
    before = outstanding(virtual_sandbox)
    with pytest.raises(RepayFailedRecordError, match="FAILED"):
        make().run()
    assert outstanding(virtual_sandbox) == before
    outcome = make(try_number=2).run()
    confirmed = [r for r in repays(virtual_sandbox) if r.status == "CONFIRM"]
    assert [str(r.tran_id) for r in confirmed] == [outcome.transaction_id]
    assert outstanding(virtual_sandbox) == before - Decimal(AMOUNT)


@pytest.mark.parametrize("action", ["commit_then_garbage", "commit_then_no_id"])
def test_http_200_that_cannot_be_read_is_reconciled_not_resent(make, virtual_sandbox, action):
    virtual_sandbox.set_faults([{"endpoint": "repay", "action": action, "nth": [1]}])
    outcome = make().run()
    [record] = repays(virtual_sandbox)
    assert outcome.status == "reconciled" and outcome.transaction_id == str(record.tran_id)
    assert virtual_sandbox.endpoint_counts["repay"] == 1


def test_reconciles_through_a_records_outage(make, virtual_sandbox):
    virtual_sandbox.set_faults([
        {"endpoint": "repay", "action": "commit_then_503", "nth": [1]},
        {"endpoint": "borrow_repay_records", "action": "error", "status": 503, "times": 12},
    ])
    outcome = make(reconcile_poll_interval=5).run()
    [record] = repays(virtual_sandbox)
    assert outcome.status == "reconciled" and outcome.transaction_id == str(record.tran_id)


def test_records_outage_until_the_bound_says_may_have_executed(make, virtual_sandbox):
    virtual_sandbox.set_faults([
        {"endpoint": "repay", "action": "commit_then_503", "nth": [1]},
        {"endpoint": "borrow_repay_records", "action": "error", "status": 503},
    ])
    with pytest.raises(RepayOutcomeUnknownError) as info:
        make(resend_horizon=60, reconcile_timeout=90).run()
    assert "MAY HAVE EXECUTED" in str(info.value) and "could not read the evidence" in str(info.value)
    assert virtual_sandbox.endpoint_counts["repay"] == 1


def test_stalled_try_that_wakes_after_a_later_try_does_not_send(make, client, virtual_sandbox):
    later: list[Any] = []

    class StallsBeforeSending(LoanClient):
        def repay(self, *args: Any, **kwargs: Any) -> Any:
            later.append(make(try_number=2).run())  # the scheduler started the retry meanwhile
            return super().repay(*args, **kwargs)

    stalled = make(try_number=1, repay_client=StallsBeforeSending(client.session))
    with pytest.raises(RepaySupersededError, match="stops without sending"):
        stalled.run()
    [record] = repays(virtual_sandbox)
    assert later[0].transaction_id == str(record.tran_id)
    assert virtual_sandbox.endpoint_counts["repay"] == 1


def test_an_earlier_try_cannot_take_over_from_a_later_one(make, store, virtual_sandbox):
    make(try_number=3).run()
    with pytest.raises(RepaySupersededError):
        make(try_number=2).run()
    assert len(repays(virtual_sandbox)) == 1


def test_two_requests_on_one_unit_never_adopt_each_others_record(make, client, virtual_sandbox):
    """TI 1 repays; TI 2's identical repay is answered 503 and NOT applied: TI 2 must repay, not adopt."""
    first: list[Any] = []

    class OtherRepaysFirst(LoanClient):
        def repay(self, *args: Any, **kwargs: Any) -> Any:
            if not first:
                first.append(make(request_id="run-1/repay_b").run())
                virtual_sandbox.set_faults([{"endpoint": "repay", "action": "error", "status": 503, "nth": [1]}])
            return super().repay(*args, **kwargs)

    second = make(request_id="run-1/repay_a", repay_client=OtherRepaysFirst(client.session)).run()
    records = repays(virtual_sandbox)
    assert len(records) == 2
    assert {first[0].transaction_id, second.transaction_id} == {str(r.tran_id) for r in records}
    assert second.status == "repaid"


def test_two_unknown_outcomes_on_one_unit_fail_clearly_instead_of_guessing(make, client, virtual_sandbox):
    virtual_sandbox.set_faults([{"endpoint": "repay", "action": "commit_then_503", "nth": [1]},
                                {"endpoint": "repay", "action": "error", "status": 503, "nth": [2]}])
    other = make(request_id="run-1/repay_b", resend_horizon=60, reconcile_timeout=60)
    mine = make(request_id="run-1/repay_a", resend_horizon=60, reconcile_timeout=60)
    step_b, step_a = other.start(), mine.start()
    assert not isinstance(step_b, Finished) and not isinstance(step_a, Finished)
    for workflow, step in ((other, step_b), (mine, step_a)):
        with pytest.raises(RepayOutcomeUnknownError, match="could belong to another request"):
            while True:
                workflow.clock.sleep(15)
                step = workflow.check(step)
    assert len(repays(virtual_sandbox)) == 1 and virtual_sandbox.endpoint_counts["repay"] == 2


def test_a_settled_request_is_reported_again_never_repaid(make, virtual_sandbox, caplog):
    first = make().run()
    with caplog.at_level(logging.INFO, logger="airflow_binance_loan"):
        again = make(try_number=2).run()
    assert again.status == "reconciled" and again.transaction_id == first.transaction_id
    assert "NOT repaying again" in caplog.text
    assert len(repays(virtual_sandbox)) == 1


def test_outstanding_partly_filled_is_completed_by_a_rerun(make, virtual_sandbox):
    unit = virtual_sandbox.state.units[UNIT]
    owed = outstanding(virtual_sandbox)
    with virtual_sandbox.state.lock:
        unit.credit.wallets["MARGIN"]["USDT"] = owed - 100
    first = make(amount="outstanding").run()
    assert Decimal(first.repaid_amount) == owed - 100 and outstanding(virtual_sandbox) == 100
    with virtual_sandbox.state.lock:
        unit.credit.wallets["MARGIN"]["USDT"] = Decimal(1000)  # topped up, then the run is cleared
    second = make(amount="outstanding", try_number=2).run()
    assert second.status == "repaid" and second.transaction_id != first.transaction_id
    assert Decimal(second.repaid_amount) == 100 and outstanding(virtual_sandbox) == 0
    third = make(amount="outstanding", try_number=3).run()
    assert third.status == "reconciled" and third.transaction_id == second.transaction_id
    assert len(repays(virtual_sandbox)) == 2


def test_insufficient_balance_is_a_definite_rejection(make, virtual_sandbox):
    with virtual_sandbox.state.lock:
        virtual_sandbox.state.units[UNIT].credit.wallets["MARGIN"]["USDT"] = Decimal(0)
    with pytest.raises(RepayRejectedError, match=r"Insufficient balance.*1000\.5 USDT.*nothing was repaid"):
        make().run()
    assert virtual_sandbox.endpoint_counts["repay"] == 1 and repays(virtual_sandbox) == []


def test_nothing_to_repay_only_when_binance_says_so_before_anything_executed(make, virtual_sandbox):
    with virtual_sandbox.state.lock:
        liability = virtual_sandbox.state.units[UNIT].liabilities["USDT"]
        liability.principal = liability.interest = Decimal(0)
    outcome = make(amount="outstanding").run()
    assert (outcome.status, outcome.transaction_id, outcome.repaid_amount) == ("nothing_to_repay", None, "0")
    assert "repay" not in virtual_sandbox.endpoint_counts


@pytest.mark.parametrize("text", ["{not json", json.dumps({"version": 1, "group_id": UNIT, "asset": "USDT",
                                                            "requests": {"x": {"owner": 1}}}), "[]"])
def test_corrupt_journal_fails_before_sending_naming_it(make, store, virtual_sandbox, text):
    store.set(journal_key(UNIT, "USDT"), text)
    with pytest.raises(JournalCorruptError) as info:
        make().run()
    message = str(info.value)
    assert journal_key(UNIT, "USDT") in message and "Nothing was sent" in message and "delete it" in message
    assert "repay" not in virtual_sandbox.endpoint_counts


def test_a_try_overtaken_while_its_repay_is_in_flight_says_may_have_executed(make, client, virtual_sandbox):
    later: list[Any] = []

    class OvertakenInFlight(LoanClient):
        def repay(self, *args: Any, **kwargs: Any) -> Any:
            result = super().repay(*args, **kwargs)
            later.append(make(try_number=2).run())  # the answer arrives after the retry took over
            return result

    with pytest.raises(RepayOutcomeUnknownError, match="took over meanwhile: the repay MAY HAVE EXECUTED"):
        make(try_number=1, repay_client=OvertakenInFlight(client.session)).run()
    [record] = repays(virtual_sandbox)
    assert later[0].status == "reconciled" and later[0].transaction_id == str(record.tran_id)
    assert virtual_sandbox.endpoint_counts["repay"] == 1
