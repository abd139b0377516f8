"""What a money-moving request tried to do: the record a caller reconciles against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestIntent:
    """What a money-moving request tried to do, so a caller can reconcile it.

    ``params`` holds only the business parameters (never timestamp, recvWindow or
    signature); ``timestamp_ms`` is the server-time timestamp the request was signed with.
    """

    method: str
    path: str
    params: dict[str, str]
    timestamp_ms: int
    recv_window_ms: int = 5000
    group_id: int | None = None
    asset: str | None = None
    amount: str | None = None

    def describe(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.method} {self.path} ({parts}) signed at timestamp {self.timestamp_ms}"
