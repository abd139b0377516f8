"""Keeping signatures out of text that may reach a log or an error message."""

from __future__ import annotations

import re

_SIGNATURE_RE = re.compile(r"(signature=)[^&\s\"'<>]+", re.IGNORECASE)
BODY_EXCERPT_CHARS = 300


def redact(text: str) -> str:
    """Remove anything that looks like a signature from free text (e.g. an echoed URL)."""
    return _SIGNATURE_RE.sub(r"\1***", text)


def body_excerpt(body: bytes | str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """A short, redacted, single-line excerpt of a response body for error messages."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit] + "…"
    return redact(text)
