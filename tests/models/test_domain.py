"""The domain model is internally consistent and its dbt seeds are current."""

from __future__ import annotations

import csv
import io

import pytest

from opsledger.models import load_domain
from opsledger.models.domain import SQL_TYPES
from opsledger.models.export import rendered_seeds, stale_seeds


@pytest.fixture(scope="module")
def domain():
    return load_domain()


def test_states_split_into_internal_and_external(domain):
    assert set(domain.internal_states).isdisjoint(domain.external_states)
    assert set(domain.blocked_states) == {"quality_hold", "damaged", "returned", "resale_ready"}
    assert "available" in domain.internal_states
    assert "customer" in domain.external_states


def test_every_transition_uses_known_states_and_moving_event_types(domain):
    for t in domain.transitions:
        assert t.from_state in domain.states, t
        assert t.to_state in domain.states, t
        assert t.from_state != t.to_state, t
        assert domain.event_types[t.event_type].moves, t


def test_every_moving_event_type_has_exactly_one_default_or_explicit_states(domain):
    for event in domain.event_types.values():
        if not event.moves:
            assert not domain.transitions_for(event.name)
            continue
        defaults = [t for t in domain.transitions_for(event.name) if t.default]
        explicit = {"from_state", "to_state"} <= set(event.required)
        by_disposition = all(t.disposition for t in domain.transitions_for(event.name))
        assert len(defaults) == 1 or explicit or by_disposition, event.name
        assert len(defaults) <= 1, event.name


def test_each_disposition_maps_to_one_transition(domain):
    mapped = [t.disposition for t in domain.transitions if t.disposition]
    assert sorted(mapped) == sorted(domain.dispositions)


def test_product_class_rules(domain):
    assert "restock" not in domain.allowed_dispositions("hygiene")
    assert "restock" not in domain.allowed_dispositions("electronics")
    assert "refurbish" in domain.allowed_dispositions("electronics")
    for cls in domain.product_classes:
        assert set(domain.allowed_dispositions(cls)) <= set(domain.dispositions)


def test_event_fields_are_declared_with_known_types(domain):
    for event in domain.event_types.values():
        assert len(set(event.fields)) == len(event.fields), event.name
        for name in event.fields:
            assert name in domain.fields, (event.name, name)
    for spec in domain.fields.values():
        assert spec.type in SQL_TYPES
        if spec.enum:
            assert domain.enum_values(spec.enum)
        assert spec.constraint in (None, "positive", "non_negative")
        assert spec.ref in (None, "sku", "node", "channel", "supplier")


def test_reason_code_kinds_exist_and_fields_are_carried(domain):
    for event in domain.event_types.values():
        if event.reason_code_kind:
            assert domain.reason_codes(event.reason_code_kind)
            assert "reason_code" in event.fields, event.name


def test_source_fields_start_with_the_common_envelope(domain):
    for source in domain.sources:
        fields = domain.source_fields(source)
        assert fields[:4] == ("event_id", "event_type", "event_time", "source")
        assert len(set(fields)) == len(fields)


def test_seeds_are_current():
    assert stale_seeds() == [], "run `opsledger model export`"


def test_rendered_transitions_seed_matches_model(domain):
    rows = list(csv.DictReader(io.StringIO(rendered_seeds()["domain_transitions.csv"])))
    assert len(rows) == len(domain.transitions)
    assert {(r["event_type"], r["from_state"], r["to_state"]) for r in rows} == {
        (t.event_type, t.from_state, t.to_state) for t in domain.transitions
    }


def test_event_reference_is_current():
    from opsledger.models.reference import reference_is_current

    assert reference_is_current(), "run `opsledger model export`"
