"""The month's loan books for accounting, plain Python (no Airflow import): the closed month
(:mod:`.period`), each unit's borrow/repay records and interest history with per-asset totals
(:mod:`.ledger`), their CSV and JSON files (:mod:`.render`), and an all-or-nothing publication of
those files to any path-like store (:mod:`.publish`)."""
