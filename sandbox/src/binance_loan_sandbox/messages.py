"""The request/response values passed between the HTTP layer and the pipeline, and Binance error bodies."""

from __future__ import annotations

from dataclasses import dataclass, field

from binance_loan_sandbox import jsonwire
from binance_loan_sandbox.errors import SandboxError
from binance_loan_sandbox.limits import RateLimited

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class Request:
    """What the HTTP layer received: method, raw path, raw query and body bytes, key header, peer IP."""

    method: str
    path: str
    raw_query: bytes
    raw_body: bytes
    api_key: str | None
    client_ip: str


@dataclass
class Response:
    """What to send back; ``drop`` closes the socket without any answer."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = JSON_TYPE
    drop: bool = False
    close: bool = False


def error_response(error: SandboxError, headers: list[tuple[str, str]] | None = None) -> Response:
    """A Binance error body ``{"code", "msg"}`` with the error's HTTP status.

    :param error: the refusal.
    :param headers: headers to keep (weight counters).
    """
    extra = list(headers or [])
    if isinstance(error, RateLimited):
        extra.append(("Retry-After", str(error.retry_after)))
        if not any(name == error.header for name, _ in extra):
            extra.append((error.header, str(error.used)))
    body = jsonwire.dumps({"code": error.code, "msg": error.msg})
    return Response(error.status, body, extra, close=error.close)
