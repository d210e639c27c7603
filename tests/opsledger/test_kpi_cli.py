"""`opsledger kpi`: values equal the metrics service, errors name what is allowed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsledger.cli import app
from opsledger.core.readonly import connect_read_only
from opsledger.metrics.service import MetricsService, Slice
from opsledger.models.kpis import catalog

runner = CliRunner()


def kpi(home: Path, *args: str):
    return runner.invoke(app, ["kpi", *args, "--home", str(home)])


def test_list_names_every_definition(real_home: Path) -> None:
    out = kpi(real_home, "--list", "--json")
    assert out.exit_code == 0, out.output
    listed = {k["kpi"]: k for k in json.loads(out.output)["kpis"]}
    assert set(listed) == set(catalog().kpis)
    assert listed["unit_fill_rate"]["fact"] == "marts.fct_order_lines"


def test_value_with_numerator_denominator_and_rows_equals_the_service(real_home: Path) -> None:
    out = kpi(
        real_home,
        "unit_fill_rate",
        "--from",
        "2025-03-01",
        "--to",
        "2025-06-30",
        "--channel",
        "web",
        "--channel",
        "amazon",
        "--json",
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    (value,) = report["values"]
    con = connect_read_only(real_home / "warehouse.duckdb")  # the CLI's configuration
    try:
        want = MetricsService(con).value(
            "unit_fill_rate",
            Slice(date(2025, 3, 1), date(2025, 6, 30), {"channel": ("web", "amazon")}),
        )
    finally:
        con.close()
    assert value["value"] == pytest.approx(want.value)
    assert value["numerator"] / value["denominator"] == pytest.approx(value["value"])
    assert value["fact_rows"] == want.fact_rows > 0
    assert report["slice"]["filters"] == {"channel": ["web", "amazon"]}


def test_group_by_a_dimension_and_a_period(real_home: Path) -> None:
    out = kpi(real_home, "refund_cycle_time_days", "--by", "channel,month", "--json")
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)["values"]
    assert rows and all(set(r["group"]) == {"month", "channel"} for r in rows)
    plain = kpi(real_home, "refund_cycle_time_days", "--by", "channel")
    assert plain.exit_code == 0 and "fact rows" in plain.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["no_such_kpi"], "KPIs: unit_fill_rate"),
        (["unit_fill_rate", "--channel", "nowhere"], "channel values:"),
        (["supplier_otif", "--channel", "web"], "its dimensions: supplier"),
        (["unit_fill_rate", "--by", "colour"], "allowed: channel"),
        (["unit_fill_rate", "--from", "2025-05-01", "--to", "2025-04-01"], "is after"),
    ],
)
def test_bad_requests_exit_2_with_the_allowed_values(real_home, args, needle) -> None:
    out = kpi(real_home, *args, "--json")
    assert out.exit_code == 2, out.output
    error = json.loads(out.stdout)["error"]
    assert error["code"] == "usage" and error["exit_code"] == 2
    assert needle in error["message"]
    text = kpi(real_home, *args)
    assert text.exit_code == 2 and text.stderr.startswith("error: ") and not text.stdout


def test_nothing_published_is_bad_input(tmp_path: Path) -> None:
    out = kpi(tmp_path, "unit_fill_rate", "--json")
    assert out.exit_code == 6
    assert "nothing published" in json.loads(out.stdout)["error"]["message"]
