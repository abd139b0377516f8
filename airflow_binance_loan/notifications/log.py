"""LogNotifier: a notification written to the task log, the LTV watch's default channel.

Any Airflow notifier can be used instead or as well (``SmtpNotifier`` of the SMTP provider, Slack's,
...); the LTV watch renders them with ``ltv_alert`` in the context (``subject``, ``text`` and the
figures), so their templates can say ``{{ ltv_alert.text }}``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseNotifier

ALERT_LOGGER = "binance_loan.alerts"


class LogNotifier(BaseNotifier):
    """Log ``subject`` and ``message`` at WARNING, prefixed ``LTV ALERT`` (both templated).

    :param subject: one line (default: the LTV alert's subject).
    :param message: the body (default: the LTV alert's text).
    """

    template_fields: Sequence[str] = ("subject", "message")

    def __init__(self, subject: str = "{{ ltv_alert.subject }}", message: str = "{{ ltv_alert.text }}",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.subject = subject
        self.message = message

    def notify(self, context: Any) -> None:
        """Write the rendered notification to the log.

        :param context: the context it was rendered with.
        """
        logging.getLogger(ALERT_LOGGER).warning("LTV ALERT: %s\n%s", self.subject, self.message)
