"""What a user relies on, read in a real browser: the asset graph, a dbt model's checks, the decision, the card."""

from __future__ import annotations

import time
from typing import Any

import pytest

from orchestration import asset_keys
from tests.browser.conftest import PARTITION, SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.heavy]

SILVER = "week06/silver/ticket_fact_partitioned"
EVIDENCE = "week06/ops/run_evidence_report"
# `dagster-webserver -m orchestration.definitions`: the code location is named after the module.
LOCATION = "__repository__@orchestration.definitions"


def _body_text(driver: Any) -> str:
    return str(driver.find_element("tag name", "body").text)


def wait_for_text(driver: Any, *texts: str, timeout: float = 90.0) -> str:
    """Wait until every text shows on the page (dismissing Dagster's first-visit dialog on the way)."""
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        dismiss_first_visit_dialog(driver)
        body = _body_text(driver)
        if all(t in body for t in texts):
            return body
        time.sleep(0.5)
    missing = [t for t in texts if t not in body]
    raise AssertionError(f"{missing} not on {driver.current_url}; the page shows:\n{body[:3000]}")


def dismiss_first_visit_dialog(driver: Any) -> None:
    """Dagster greets a first visit with a "Join the Dagster community" dialog: skip it."""
    for button in driver.find_elements("xpath", "//div[@role='dialog']//button[normalize-space()='Skip']"):
        if button.is_displayed():
            button.click()


def shot(driver: Any, name: str) -> None:
    """Save a screenshot once no dialog covers the page (the first-visit dialog can come late)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        dismiss_first_visit_dialog(driver)
        time.sleep(0.5)
        if not [d for d in driver.find_elements("xpath", "//div[@role='dialog']") if d.is_displayed()]:
            break
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def test_asset_graph_shows_the_factory(browser: Any, dagster_ui: str) -> None:
    group = f"{dagster_ui}/locations/{LOCATION}/asset-groups/week06_data_factory"
    # The group's own lineage page: the global graph collapses groups once there are two (the lake's).
    # The graph shortens long names ("raw_t…_partitioned"): the short ones are read there, all in the list.
    browser.get(f"{group}/lineage")
    wait_for_text(browser, "seed_manifests", "manifest_gate", "stg_ticket_events", "support_kpi_daily")
    shot(browser, "dagster_asset_graph")
    # The list shortens names too ("week06 / ingestion…events_partitioned"): its links carry the keys.
    browser.get(f"{group}/list")
    keys = [
        asset_keys.SEED_MANIFESTS,
        asset_keys.MANIFEST_GATE,
        asset_keys.RAW_TICKET_EVENTS,
        "week06/staging/stg_ticket_events",
        asset_keys.SILVER_TICKET_FACT,
        asset_keys.GOLD_KPI_DAILY,
        asset_keys.RUN_EVIDENCE_REPORT,
    ]
    deadline = time.monotonic() + 90
    while True:
        hrefs = {str(a.get_attribute("href")) for a in browser.find_elements("css selector", "a[href*='/assets/']")}
        missing = [k for k in keys if not any(h.split("?")[0].endswith(f"/assets/{k}") for h in hrefs)]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not missing, (missing, sorted(hrefs))


def test_silver_checks_carry_descriptions_and_blocking_policy(browser: Any, dagster_ui: str) -> None:
    check = "unique_in_partition_window_ticket_fact_ticket_id"
    browser.get(f"{dagster_ui}/assets/{SILVER}?view=checks&checkDetail={check}")
    # The check's dbt description and the blocking policy, as written in dbt; its result names its partition.
    body = wait_for_text(browser, check, "Exactly one row per ticket in the window.", "Blocking policy", "Passed")
    assert "No description provided" not in body
    assert "hold_downstream" in body
    assert PARTITION.isoformat() in body
    shot(browser, "dagster_silver_checks")


def test_silver_partition_page_has_its_row_count(browser: Any, dagster_ui: str) -> None:
    browser.get(f"{dagster_ui}/assets/{SILVER}?view=partitions&partition={PARTITION.isoformat()}")
    body = wait_for_text(browser, PARTITION.isoformat(), "partition_window")
    assert "dagster/row_count" in body or "Row count" in body
    shot(browser, "dagster_silver_partition")


def test_evidence_shows_the_decision_as_a_check(browser: Any, dagster_ui: str) -> None:
    browser.get(f"{dagster_ui}/assets/{EVIDENCE}?view=checks&checkDetail=downstream_decision")
    # The seed batches carry rejected lines: the demo partition needs review, and the check says so.
    body = wait_for_text(browser, "downstream_decision", "May downstream (Week07) trust this partition?", "Failed")
    assert "manual_review_required" in body
    shot(browser, "dagster_evidence_decision")


def test_dbt_docs_link_is_clickable(browser: Any, dagster_ui: str, dbt_docs: str) -> None:
    browser.get(f"{dagster_ui}/assets/{SILVER}")
    wait_for_text(browser, "dbt_docs_url")
    links = browser.find_elements("xpath", f"//a[starts-with(@href, '{dbt_docs}/#!/model/')]")
    assert links, "dbt_docs_url is not a link to the served dbt docs"
    shot(browser, "dagster_silver_overview")


def test_dbt_docs_card_of_the_same_model(browser: Any, dbt_docs: str) -> None:
    browser.get(f"{dbt_docs}/#!/model/model.support_data_factory.ticket_fact")
    body = wait_for_text(browser, "ticket_fact", "The latest version of every ticket, by creation day.")
    assert "week06/silver/ticket_fact_partitioned" in body
    assert "Failure mode and recovery" in body
    shot(browser, "dbt_docs_ticket_fact")
