"""Command line: ``python -m binance_loan_sandbox --port 0 --state demo [--admin] [--save]``.

The first line on stdout is exactly ``listening on http://HOST:PORT`` (flushed),
so scripts can wait for it; SIGINT / SIGTERM stop the server cleanly. The console script
``binance-loan-sandbox`` is the same command.

:func:`is_loopback_host` deliberately repeats the provider client's check of the same name: the
sandbox imports nothing from the provider (see ``docs/sandbox.md``).
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from binance_loan_sandbox.server import SandboxServer
from binance_loan_sandbox.state import DEMO, load_state


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1): the only places fake keys belong.

    :param host: the bind address.
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m binance_loan_sandbox",
        description="Local Binance Institutional Loan API sandbox (fake money, fake keys).",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1, loopback only)")
    parser.add_argument("--state", default=DEMO,
                        help="state JSON file, or 'demo' for the shipped demo state (default); "
                             "a missing file starts from the demo state")
    parser.add_argument("--window-seconds", type=float, default=60.0, help="weight window length (default 60)")
    parser.add_argument("--admin", action="store_true", help="enable /sandbox/* admin and fault endpoints")
    parser.add_argument("--save", action="store_true", help="write the state back to --state FILE on exit")
    parser.add_argument("--live-interest", action="store_true",
                        help="accrue interest on every real hour boundary (default: only on /sandbox/advance)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox until SIGINT or SIGTERM; returns the exit code.

    :param argv: the arguments (default: ``sys.argv[1:]``).
    """
    args = _parser().parse_args(argv)
    if args.save and args.state == DEMO:
        print("error: --save needs --state FILE (the shipped demo state is read-only)", file=sys.stderr)
        return 2
    if args.state == DEMO or not Path(args.state).exists():
        if args.state != DEMO:
            print(f"note: {args.state} does not exist; starting from the demo state", file=sys.stderr)
        state = load_state(DEMO)
    else:
        state = load_state(args.state)
    server = SandboxServer(
        state,
        host=args.host,
        port=args.port,
        window_seconds=args.window_seconds,
        admin=args.admin,
        state_path=None if args.state == DEMO else args.state,
        save_on_exit=args.save,
        live_interest=args.live_interest,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    url = server.start()
    print(f"listening on {url}", flush=True)
    if not is_loopback_host(args.host):
        print(f"warning: bound to non-loopback address {args.host}; the sandbox has no TLS and fake keys",
              file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        print("stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
