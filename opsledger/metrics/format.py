"""How a KPI value reads in a unit: percentages, money, durations with units."""

from __future__ import annotations


def format_duration_minutes(minutes: float) -> str:
    """Minutes as minutes, hours or days, whichever reads best."""
    if abs(minutes) < 120:
        return f"{minutes:,.1f} min"
    if abs(minutes) < 48 * 60:
        return f"{minutes / 60:,.1f} h"
    return f"{minutes / 1440:,.1f} days"


def format_value(value: float | None, unit: str, currency: str | None = None) -> str:
    if value is None:
        return "n/a"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "currency":
        return f"{currency} {value:,.2f}" if currency else f"{value:,.2f}"
    if unit == "minutes":
        return format_duration_minutes(value)
    if unit == "days":
        return f"{value * 24:,.1f} h" if abs(value) < 2 else f"{value:,.1f} days"
    if unit == "hours":
        return format_duration_minutes(value * 60)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
