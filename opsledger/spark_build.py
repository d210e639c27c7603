"""Build the dbt project on Apache Spark (dbt-spark, session method) in this process:
export the raw layer as Parquet, start the SparkSession with `raw` views over it,
then dbt build with the `spark` target. Needs the `spark` extra (make install-spark)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from opsledger.core.paths import HomePaths
from opsledger.dbt_project import DbtOutcome, run_dbt
from opsledger.raw_export import export_raw
from opsledger.spark import register_raw_sources, spark_dir, spark_session


@dataclass
class SparkBuildResult:
    dbt: DbtOutcome
    batches: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.dbt.success


def build_on_spark(
    home: Path | str | None,
    full_refresh: bool = False,
    select: list[str] | None = None,
    exclude: list[str] | None = None,
) -> SparkBuildResult:
    paths = HomePaths.at(home)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    export_raw(paths.root)
    timings["raw_export"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    spark = spark_session(paths.root)
    batches = register_raw_sources(spark, paths.root)
    timings["spark_sources"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    args = ["build", "--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    work_dir = spark_dir(paths.root) / "dbt"
    outcome = run_dbt(args, build_db=paths.root / "build.duckdb", work_dir=work_dir, target="spark")
    timings["dbt_build"] = round(time.perf_counter() - started, 3)
    return SparkBuildResult(dbt=outcome, batches=batches, timings=timings)
