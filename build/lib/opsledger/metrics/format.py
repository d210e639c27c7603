"""How a KPI value reads in its unit, in the app and on the command line alike:
percentages, money with the merchant's currency, durations in the unit that reads."""

from __future__ import annotations

import math

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥"}


def currency_prefix(currency: str | None) -> str:
    if not currency:
        return ""
    return CURRENCY_SYMBOLS.get(currency.upper(), f"{currency.upper()} ")


def format_duration_days(days: float) -> str:
    """A duration given in days, in the largest unit that reads well: 5.2 days, 7.5 h,
    12 min (never thousands of minutes)."""
    sign = "-" if days < 0 else ""
    d = abs(days)
    if d >= 1:
        return f"{sign}{d:,.1f} days"
    hours = d * 24
    if hours >= 1:
        return f"{sign}{hours:.1f} h"
    return f"{sign}{hours * 60:.0f} min"


def format_value(value: float | None, unit: str, currency: str | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "currency":
        prefix = currency_prefix(currency)
        sign = "-" if value < 0 else ""
        return f"{sign}{prefix}{abs(value):,.0f}"
    if unit == "days":
        return format_duration_days(value)
    if unit == "hours":
        return format_duration_days(value / 24)
    if unit == "minutes":
        return format_duration_days(value / 1440)
    return f"{value:,.0f}"
