# Two commands matter: `make demo` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: install install-dev install-spark demo test lint format lock clean acceptance

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)

# Installs exactly the locked versions, then the project itself (editable):
# requirements.lock holds the runtime only (what `make demo` needs), the dev lock
# adds the test and lint tools.
# --compile-bytecode: uv does not write .pyc files by default (nor does Python
# under PYTHONDONTWRITEBYTECODE, set on this machine), and compiling dbt from
# source costs ~7 s on every process that builds or imports it.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock $(VENV)/.installed
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Optional Apache Spark engine (dbt-spark session method + pyspark; needs Java 17):
# the runtime lock plus the spark extra, installed on top of the dev install.
$(VENV)/.installed-spark: requirements-spark.lock $(VENV)/.installed-dev
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-spark.lock
	touch $@

install-spark: $(VENV)/.installed-spark

demo: install
	$(BIN)/opsledger demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt --disable-progress-bar
	$(BIN)/opsledger model check

# Two workers (this machine's cores), a test file per worker at a time: a file's
# fixtures (module-scoped builds) are built once; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt --disable-progress-bar

# Regenerate the locks from pyproject.toml (runtime and spark locks pinned to the dev lock's versions).
lock: $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml -c requirements-dev.lock --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra spark -c requirements-dev.lock --python-version 3.11 -o requirements-spark.lock

clean:
	rm -rf $(VENV) dbt/target dbt/logs .pytest_cache .ruff_cache

# Acceptance on real merchant data (UCI Online Retail), when the dataset is present.
ONLINE_RETAIL ?= ../shared/datasets/online_retail/online_retail.csv.gz
ACCEPTANCE_HOME ?= data/acceptance-online-retail
acceptance: install
	$(BIN)/opsledger import orders $(ONLINE_RETAIL) --mapping mappings/online_retail.yml --home $(ACCEPTANCE_HOME)
	$(BIN)/opsledger refresh --home $(ACCEPTANCE_HOME)
	$(BIN)/opsledger status --home $(ACCEPTANCE_HOME)
