# Two commands do everything on a fresh machine: `make run` and `make test`.
# `make test-quick` is the fast loop: the suite without the tests marked slow (each over ~5 s).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := report,analysis,dask,postgres,test
# Test processes (pytest-xdist): the suite is mostly one core's work per test, so two processes
# on a 2-core machine take it from 6.5 to 4 minutes. TEST_JOBS=0 runs it in this process.
TEST_JOBS ?= 2

.PHONY: install run test test-quick serve bench lint system-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

# Simulate the embedded baseline scenario; prints the table and writes results/baseline/.
run: install
	$(BIN)/ivr311 simulate scenarios/baseline.yaml --out results/baseline

# Debian packages some tests need (a PostgreSQL server, headless Chromium), installed only when missing.
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" != 0 ]; then \
	  echo "not root, so not installing Debian packages:$$missing (apt-get install -y$$missing);" \
	    "the tests that need them fail or skip"; \
	elif [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: install system-deps
	$(BIN)/python -m pytest -q -n $(TEST_JOBS)

# The fast loop while editing: every test but those marked slow (CI and `make test` run those too).
# Some quick tests still need the Debian packages (a PostgreSQL server for the store's tests).
test-quick: install system-deps
	$(BIN)/python -m pytest -q -n $(TEST_JOBS) -m "not slow"

lint: install
	$(BIN)/ruff check queueing ivr tests bench
	$(BIN)/ruff format --check queueing ivr tests bench
	$(BIN)/mypy queueing ivr

# The voice app in production: settings and why in ivr/gunicorn_conf.py, docs/deployment.md.
# IVR311_BIND (default 0.0.0.0:5000) and WEB_CONCURRENCY (default 2 workers) override them.
serve: install
	$(BIN)/gunicorn -c python:ivr.gunicorn_conf app:app

# Benchmarks measure and print ratios against baselines run in the same process; they are not tests.
bench: install
	$(BIN)/python -m bench.sim_speed
	$(BIN)/python -m bench.record_day
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.staff_speed
	$(BIN)/python -m bench.roster_speed
	$(BIN)/python -m bench.roster_week
	$(BIN)/python -m bench.calibrate_speed
	$(BIN)/python -m bench.nowcast_speed
	$(BIN)/python -m bench.announce_accuracy
	$(BIN)/python -m bench.webhook_latency --duration 60

clean:
	rm -rf $(VENV) results build *.egg-info
