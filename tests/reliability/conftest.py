"""Reliability tests share the integration suite's guarantee: after every test, the books balance."""

from __future__ import annotations

from tests.integration.conftest import ledger_balances

__all__ = ["ledger_balances"]
