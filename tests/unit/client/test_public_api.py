"""The client's public surface: what a user needs, each name the object it says, whatever was imported first."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import airflow_binance_loan.client as client_package
import airflow_binance_loan.repayment as repayment_package

EXPECTED = {
    "connect", "LoanClient", "RetryPolicy", "reconcile", "examine", "Reconciliation", "SentRepay", "Snapshot",
    "ActiveRiskUnit", "ApiRestrictions", "BorrowRepayRecord", "BorrowResult", "InterestRecord", "Liability",
    "RepayResult", "RiskUnitDetails",
    "BinanceLoanError", "BinanceAPIError", "AuthenticationError", "InvalidSignatureError", "ConfigurationError",
    "ExecutionUnknownError", "InsufficientBalanceError", "InvalidParameterError", "NetworkError", "RateLimitError",
    "ServerError",
}


def test_the_client_exports_what_a_user_needs_and_no_internals():
    assert set(client_package.__all__) == EXPECTED
    for internal in ("BinanceSession", "WeightPacer", "ServerTime", "SystemClock", "ENDPOINTS", "load_signer"):
        assert internal not in client_package.__all__
        with pytest.raises(AttributeError):
            getattr(client_package, internal)


@pytest.mark.parametrize("package", [client_package, repayment_package])
def test_every_export_is_its_object_even_after_every_submodule_was_imported(package):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
    for name in package.__all__:
        value = getattr(package, name)
        assert not isinstance(value, types.ModuleType), name
        assert name in dir(package)
