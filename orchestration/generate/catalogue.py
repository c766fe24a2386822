"""The catalogue of the synthetic exports: products, subjects, customers' companies, weights, SLA targets.

Plain data and the weighted choice over it; the lifecycle draws from here.
"""

from __future__ import annotations

import json
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

T = TypeVar("T")

SOURCE_ID = "structured:tickets:northstar_daily_export"
TICKET_CONTRACT_REF = "omni://contracts/data/ticket/v1"
TICKET_OWNER = "support-ops"
MANIFEST_OWNER = "data-platform"
FIRST_SEQUENCE = 100001  # clear of the course's small ticket numbers (000001..000500)
MAX_TICKETS_PER_DAY = 999_999 - FIRST_SEQUENCE + 1  # ticket_id has six sequence digits
LATE_HORIZON_DAYS = 7  # a late update lands 1..7 days after the ticket was created

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MIN_VERSION_GAP_US = MINUTE_US  # versions of a ticket are at least a minute apart, even after flooring
_CHUNK_LINES = 512
_DUPLICATE_WINDOW = 1024  # lines per batch a redelivery may be drawn from (this batch and the previous)

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_SLOT = "<<version-field>>"  # stands for a per-version value; catalogue text never contains it
_ENCODED_SLOT = _ENCODER.encode(_SLOT)


# --- Catalogue -------------------------------------------------------------------------------


class _Weighted(Generic[T]):
    """A weighted choice that costs one `random()` and a bisect (random.choices is several times slower)."""

    __slots__ = ("values", "cumulative", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        # The last value is repeated: `random() * total` may round up to `total` itself.
        self.values = [value for value, _ in pairs] + [pairs[-1][0]]
        self.cumulative: list[float] = []
        running = 0.0
        for _, weight in pairs:
            running += weight
            self.cumulative.append(running)
        self.total = running

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect_right(self.cumulative, rng.random() * self.total)]


def _choose(rng: random.Random, options: Sequence[T]) -> T:
    """Uniform choice; cheaper than `Random.choice`, exact for short sequences (random() < 1)."""
    return options[int(rng.random() * len(options))]


@dataclass(frozen=True)
class _Product:
    name: str
    short: str
    versions: tuple[str, ...]
    error_codes: tuple[str, ...]


PRODUCTS: dict[str, _Product] = {
    "northstar_workspace": _Product(
        "Northstar Workspace",
        "ws",
        ("2.9.1", "3.0.2", "3.1.5", "3.2.0"),
        ("WS-AUTH-001", "WS-PERM-002", "WS-SYNC-003", "WS-API-404", "WS-WEBHOOK-005", "WS-QUOTA-006"),
    ),
    "northstar_edge_gateway": _Product(
        "Northstar Edge Gateway",
        "eg",
        ("FW-2.2.5", "FW-2.3.0", "FW-2.4.1"),
        ("EG-CONN-001", "EG-FW-002", "EG-SENSOR-003", "EG-BOOT-004", "EG-CERT-005", "EG-TEMP-006"),
    ),
    "northstar_studio": _Product(
        "Northstar Studio",
        "st",
        ("1.3.8", "1.4.2", "1.5.0"),
        ("ST-FLOW-001", "ST-EXEC-002", "ST-MONITOR-003", "ST-INTEG-004", "ST-SCHED-005"),
    ),
}
_PRODUCT_LINES = _Weighted([("northstar_workspace", 35), ("northstar_edge_gateway", 36), ("northstar_studio", 29)])

# Subjects by category; {product}, {code} and {version} are filled from the ticket.
SUBJECTS: dict[str, tuple[str, ...]] = {
    "installation": (
        "Installation fails at step 3 with error {code}",
        "Silent install returns exit code 1",
        "Installer hangs while verifying the license key",
        "Upgrade to {version} rolls back after reboot",
        "Cannot complete setup after factory reset",
    ),
    "configuration": (
        "SSO configuration not applied after update",
        "Custom webhook endpoint not receiving events",
        "Rate limit configuration not applied correctly",
        "Proxy settings reset after every restart",
        "Role mapping from IdP groups is ignored",
    ),
    "connectivity": (
        "Device unreachable after network change ({code})",
        "VPN tunnel cannot be established to the {product} gateway",
        "WebSocket connection drops every 30 minutes",
        "Intermittent timeouts calling the {product} API",
    ),
    "authentication": (
        "LDAP-synced users cannot log in \u2014 {code}",
        "Service account token expired and rotation fails",
        "MFA device removed but account still requires it",
        "SAML assertion rejected because of clock skew",
    ),
    "billing": (
        "Question about {product} pricing for additional seats",
        "Invoice lists seats that were removed last month",
        "Card payment declined on annual renewal",
        "Need our VAT number printed on invoices",
    ),
    "feature_request": (
        "Schedule dashboard exports to PDF",
        "Allow bulk reassignment of devices between sites",
        "Stream audit log events to our SIEM",
        "Expose custom fields in {product} API responses",
    ),
    "bug_report": (
        "{code} thrown on empty data export",
        "Scheduled job runs twice in some timezones",
        "UI freezes when filtering more than 500 results",
        "Sort order lost after page refresh in {product}",
    ),
    "documentation": (
        "Documentation unclear for advanced {product} setup",
        "API reference is missing pagination parameters",
        "Upgrade guide to {version} skips a migration step",
    ),
    "performance": (
        "Query latency increased 5x after the {version} upgrade",
        "Dashboard load time exceeds 30 seconds",
        "Memory leak in the background sync process",
        "High CPU usage after upgrading to {version}",
    ),
    "security": (
        "Suspicious login attempts from unknown IPs",
        "Audit log shows a privilege escalation attempt",
        "Certificate validation bypass in API client",
        "Request for the latest penetration test report",
    ),
    "other": (
        "Need help migrating data from a legacy system",
        "Question about data retention for closed accounts",
        "Please update the billing contact for our account",
    ),
}
_CATEGORIES = _Weighted(
    [
        ("feature_request", 67),
        ("billing", 53),
        ("installation", 50),
        ("security", 48),
        ("documentation", 47),
        ("authentication", 44),
        ("performance", 42),
        ("configuration", 41),
        ("other", 39),
        ("connectivity", 37),
        ("bug_report", 32),
    ]
)
# Categories whose tickets usually quote product error codes.
_TECHNICAL = frozenset(
    {
        "installation",
        "configuration",
        "connectivity",
        "authentication",
        "bug_report",
        "performance",
        "security",
    }
)
_DETAILS = (
    "Started after the last maintenance window.",
    "Affects every user in the EU region.",
    "Restarting the service helps for a few hours.",
    "This blocks a production rollout planned for next week.",
    "Seen on 3 of 12 sites so far.",
    "Reproducible on a clean test environment.",
    "No recent changes on the customer side.",
)
# What the description says about the reporter: (sentence, pii_level, pii_redacted).
_REPORTER_NOTES = _Weighted(
    [
        (("", "none", False), 25),
        ((" Reported by [REDACTED_NAME] from the IT team.", "low", True), 40),
        ((" Reported by the account's IT administrator.", "low", False), 20),
        ((" Reporter contact: [REDACTED_EMAIL], [REDACTED_PHONE].", "high", True), 15),
    ]
)
_ATTACHMENT_COUNTS = (0, 0, 0, 0, 1, 2)  # screenshots or logs on a third of the tickets

_PRIORITIES = _Weighted([("p1_critical", 7), ("p2_high", 13), ("p3_medium", 50), ("p4_low", 30)])
_SLA_TIERS = _Weighted([("standard", 45), ("professional", 34), ("enterprise", 13), ("free", 8)])
# Resolution target in hours by support tier and priority; free tier has no target below p2.
SLA_HOURS: dict[str, dict[str, int | None]] = {
    "enterprise": {"p1_critical": 2, "p2_high": 4, "p3_medium": 8, "p4_low": 24},
    "professional": {"p1_critical": 4, "p2_high": 8, "p3_medium": 24, "p4_low": 48},
    "standard": {"p1_critical": 8, "p2_high": 24, "p3_medium": 48, "p4_low": 72},
    "free": {"p1_critical": 24, "p2_high": 72, "p3_medium": None, "p4_low": None},
}
# Mean time between two updates of a ticket: urgent tickets move faster.
_MEAN_GAP_US = {"p1_critical": 45 * MINUTE_US, "p2_high": 2 * HOUR_US, "p3_medium": 4 * HOUR_US, "p4_low": 6 * HOUR_US}

_VERSION_COUNTS = _Weighted([(1, 25), (2, 35), (3, 25), (4, 15)])
_FIRST_STATUS = _Weighted([("open", 92), ("in_progress", 8)])  # in_progress: logged by an agent on a call
# Next status of a ticket; a resolved ticket is sometimes reopened (back to in_progress).
_TRANSITIONS: dict[str, _Weighted[str]] = {
    "open": _Weighted([("in_progress", 62), ("pending", 14), ("escalated", 9), ("resolved", 15)]),
    "in_progress": _Weighted([("pending", 30), ("resolved", 55), ("escalated", 15)]),
    "pending": _Weighted([("in_progress", 45), ("resolved", 55)]),
    "escalated": _Weighted([("in_progress", 55), ("resolved", 45)]),
    "resolved": _Weighted([("closed", 80), ("in_progress", 20)]),
}
_DONE = frozenset({"resolved", "closed"})
_LATE_OFFSETS = _Weighted([(1, 35), (2, 20), (3, 15), (4, 10), (5, 8), (6, 7), (7, 5)])
# Relative ticket volume per UTC hour: a global customer base with a European/American working day.
_HOURLY_LOAD = (2, 2, 2, 2, 3, 4, 6, 8, 9, 10, 10, 10, 9, 9, 10, 10, 9, 8, 6, 5, 4, 3, 3, 2)

_COMPANY_FIRST = (
    "Apex",
    "Summit",
    "Cobalt",
    "Zenith",
    "Pinnacle",
    "Horizon",
    "Nova",
    "Meridian",
    "Prism",
    "Vertex",
    "Crest",
    "Acme",
    "Harbor",
    "Juniper",
    "Granite",
    "Silverline",
    "Bluefin",
    "Ironwood",
    "Lumen",
    "Northgate",
)
_COMPANY_SECOND = (
    "Solutions",
    "Analytics",
    "Engineering",
    "Industries",
    "Ops",
    "Networks",
    "Systems",
    "Tech",
    "Data",
    "Cloud",
    "Digital",
    "Logistics",
    "Health",
    "Retail",
    "Energy",
)
_ORG_COUNT = 240
_CONTACTS_BY_TIER = {"enterprise": (10, 40), "professional": (4, 15), "standard": (2, 8), "free": (1, 2)}
_AGENTS = {line: tuple(f"agent-{product.short}-{i:02d}" for i in range(1, 25)) for line, product in PRODUCTS.items()}
_ESCALATION_AGENTS = tuple(f"agent-l2-{i:02d}" for i in range(1, 9))
