"""A local, faithful Binance Institutional Loan API server for rehearsals and tests.

Binance has no testnet for the ``/sapi`` loan endpoints, so DAGs, integration
tests and fault tests run against this stdlib HTTP server on loopback::

    from binance_loan_sandbox import SandboxServer, demo_credentials, load_state
    with SandboxServer(load_state("demo")) as server:
        creds = demo_credentials()["credit_hmac"]
        ...  # connect(creds["apiKey"], creds["secret"], base_url=server.url)

The sandbox shares no code with the provider (``airflow_binance_loan``): it keeps its own table of
Binance's facts and its own signature checks, so it can catch the client's mistakes. See
``docs/sandbox.md`` for the state format, fault rules and admin endpoints.
"""

from binance_loan_sandbox.faults import FaultRule
from binance_loan_sandbox.server import SandboxServer
from binance_loan_sandbox.server_clock import SandboxClock
from binance_loan_sandbox.state import SandboxState, demo_credentials, load_state, save_state
from binance_loan_sandbox.virtual_time import VirtualClock

__all__ = [
    "FaultRule",
    "SandboxClock",
    "SandboxServer",
    "SandboxState",
    "VirtualClock",
    "demo_credentials",
    "load_state",
    "save_state",
]
