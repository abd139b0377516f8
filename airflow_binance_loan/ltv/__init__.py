"""LTV watching, plain Python (no Airflow import): thresholds and crossings, repayment estimates,
alert de-duplication with a cool-down, and the polling loop the sensor's trigger runs.

Import the concrete modules (:mod:`.thresholds`, :mod:`.estimate`, :mod:`.alerts`, :mod:`.poller`).
"""
