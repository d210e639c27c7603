"""The opsledger domain model: one definition of states, transitions, events and rules."""

from opsledger.models.domain import Domain, EventType, FieldSpec, Transition, load_domain

__all__ = ["Domain", "EventType", "FieldSpec", "Transition", "load_domain"]
