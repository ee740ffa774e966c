"""engine.measurement.offer_kpi: rates count distinct customers over those presented, contacts are
raw, cost follows handled contacts, and an unpriced offer shows no cost rather than 0."""

from __future__ import annotations

import pytest

from engine.measurement.offer_kpi import OfferContact, offer_results


def _c(offer: str, channel: str, customer: str, outcome: str) -> OfferContact:
    return OfferContact(offer, channel, customer, outcome)


def test_rates_count_customers_and_contacts_count_every_record() -> None:
    found = offer_results([
        _c("a", "store", "x", "presented"), _c("a", "store", "x", "presented"),
        _c("a", "store", "x", "declined"), _c("a", "hotline", "x", "handled"),
        _c("a", "hotline", "y", "handled"), _c("a", "hotline", "y", "handled"),
        _c("a", "store", "z", "interested")], {"a": 10.0})
    offer, hotline, store = found["rows"]
    assert (offer["channel"], hotline["channel"], store["channel"]) == ("all", "hotline", "store")
    assert offer["contacts"] == {"presented": 2, "interested": 1, "declined": 1, "handled": 3,
                                 "referred": 0, "all": 7}
    # y's lone handled contacts still mean the offer was put to them
    assert offer["customers"] == {"presented": 3, "interested": 1, "declined": 1,
                                  "handled": 2, "referred": 0}
    assert offer["rates"]["handled"] == pytest.approx(2 / 3)
    assert offer["rates"]["declined"] == pytest.approx(1 / 3)  # x declined, then took it
    assert offer["cost"] == 30.0 and hotline["cost"] == 30.0 and store["cost"] == 0.0
    assert store["customers"]["presented"] == 2 and hotline["customers"]["presented"] == 2


def test_total_adds_up_offers_and_leaves_unpriced_offers_out_of_cost() -> None:
    found = offer_results([_c("a", "sms", "x", "handled"), _c("b", "sms", "x", "presented"),
                           _c("c", "sms", "y", "handled")], {"a": 5.0, "b": None})
    rows = {row["offer"]: row for row in found["rows"] if row["channel"] == "all"}
    assert rows["b"]["cost"] is None and rows["c"]["unit_cost"] is None
    total = found["total"]
    assert total["customers"]["presented"] == 3  # x under a and under b
    assert total["rates"]["handled"] == pytest.approx(2 / 3)
    assert total["cost"] == 5.0


def test_nothing_recorded_gives_no_rates() -> None:
    found = offer_results([], {})
    assert found["rows"] == []
    assert set(found["total"]["rates"].values()) == {None}
    assert found["total"]["cost"] is None
