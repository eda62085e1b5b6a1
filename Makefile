# The two commands of the README: `make demo` and `make test`. Both set everything up themselves.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/aura
REDIS_URL ?= redis://127.0.0.1:6379/0
export DATABASE_URL REDIS_URL

.PHONY: demo test test-fast mutation bench bench-poll bench-hub bench-web bench-energy bench-slow3g soak services venv debian-packages debian-runtime messages lint

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

# PostgreSQL and Redis on their usual local ports; started here when they are down.
services:
	@psql -h 127.0.0.1 -U postgres -Atqc 'select 1' >/dev/null 2>&1 || \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 30); do psql -h 127.0.0.1 -U postgres -Atqc 'select 1' >/dev/null 2>&1 && break; sleep 1; done

# Debian's Chromium drives the browser tests (browsers cannot be downloaded here); Debian's Caddy
# runs the production stack's TLS front in a test, and its HAProxy the hubs' balancer; Pango is
# WeasyPrint's (the hand-over report) and poppler-utils' pdftoppm opens the report in a test.
DEBIAN_RUNTIME := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
DEBIAN_PACKAGES := $(DEBIAN_RUNTIME) chromium caddy poppler-utils haproxy
debian-packages:
	@dpkg -s $(DEBIAN_PACKAGES) >/dev/null 2>&1 || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null)

debian-runtime:
	@dpkg -s $(DEBIAN_RUNTIME) >/dev/null 2>&1 || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_RUNTIME) >/dev/null)

# The fast tier's pytest: work stealing (a worker idle at the end takes tests from the other: 6 s
# less than the default split); without the plugins no fast test uses (schemathesis's and
# hypothesis's serve the slow tier's API fuzz; Faker's fixture is unused): 3 s less.
FAST_TIER := -m "not slow" -n 2 --dist worksteal -p no:schemathesis -p no:hypothesispytest -p no:Faker
TEST_ENV := SECRET_KEY=test-only-secret-key DATALOGGER_ALLOWED_NETWORKS=127.0.0.0/8 HTTPS=0 DEBUG=0 STATIC_MANIFEST=0 \
	DATABASE_CONN_MAX_AGE=0 REDIS_URL=redis://127.0.0.1:6379/15 CELERY_TASK_ALWAYS_EAGER=1 \
	EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend

# Every tier (tests/README.md): the unit and integration tiers on both cores, then the slow tier
# (its processes, ports and browser) on both cores too, a module per worker at a time.
test: venv services debian-packages lint
	$(TEST_ENV) $(BIN)/pytest $(FAST_TIER)
	$(TEST_ENV) $(BIN)/pytest -m slow -n 2 --dist loadfile

# Mutation testing of the core rules (tests/mutation.py): long, not in CI. `make mutation
# MODULES=core/scoping.py` for one module.
mutation: venv services
	$(BIN)/python -m tests.mutation $(MODULES)

# The unit and integration tiers (no browser, no other process), on both cores: each pytest-xdist
# worker has its own test database and Redis database (tests/conftest.py).
test-fast: venv services
	$(TEST_ENV) $(BIN)/pytest $(FAST_TIER)

# The demo serves published passwords: on this machine only, unless DEMO_BIND=0.0.0.0:8000 is asked for.
DEMO_BIND ?= 127.0.0.1:8000
DEMO_ENV := DEBUG=1 HTTPS=0 DATALOGGER_ALLOWED_NETWORKS=127.0.0.0/8 EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend \
	DEFAULT_LOGGER_HOST=127.0.0.1 DEFAULT_LOGGER_PORT=8899 LOGGER_HUB_PUBLIC_HOST=127.0.0.1

demo: venv services debian-runtime
	@psql -h 127.0.0.1 -U postgres -Atqc "select 1 from pg_database where datname='aura'" | grep -q 1 || \
		psql -h 127.0.0.1 -U postgres -qc 'create database aura'
	$(DEMO_ENV) $(BIN)/python manage.py migrate --no-input -v0
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo "Portal: http://$(DEMO_BIND)/  (Ctrl-C stops the portal, the hub, the simulator and the worker)"
	@# The trap clears itself first: `kill 0` signals this shell too, which re-entered the trap until
	@# bash overflowed its stack ("Segmentation fault" on every Ctrl-C).
	@trap 'trap - EXIT INT TERM; kill 0' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/python manage.py run_logger_hub --host 127.0.0.1 & \
	sleep 2; $(DEMO_ENV) $(BIN)/python manage.py simulate_fleet --from-db --accept-any-serial --chaos 0.02 --call-in 127.0.0.1:10000 \
		--remote-control-off 2355553513 --always-awake & \
	$(DEMO_ENV) $(BIN)/celery -A portal worker --beat --schedule $(VENV)/celerybeat-schedule --concurrency 2 --loglevel WARNING & \
	$(DEMO_ENV) $(BIN)/python manage.py runserver $(DEMO_BIND)

bench: bench-poll bench-hub bench-web bench-energy bench-slow3g

bench-poll: venv services
	SECRET_KEY=bench-only HTTPS=0 DEBUG=0 DATALOGGER_ALLOWED_NETWORKS=127.0.0.0/8 $(BIN)/python -m tests.bench.poll

bench-hub: venv services
	SECRET_KEY=bench-only HTTPS=0 DEBUG=0 DATALOGGER_ALLOWED_NETWORKS=127.0.0.0/8 $(BIN)/python -m tests.bench.hub

# A few minutes of faults, worker kills and restarts, then what was lost (not in CI, not in bench).
soak: venv services
	SECRET_KEY=soak-only HTTPS=0 DEBUG=0 DATALOGGER_ALLOWED_NETWORKS=127.0.0.0/8 $(BIN)/python -m tests.bench.soak

# Each main page's first paint on emulated Slow 3G, cold cache, through the production stack (Caddy).
bench-slow3g: venv services debian-packages
	SECRET_KEY=bench-only $(BIN)/python -m tests.bench.slow3g

bench-energy: venv services
	SECRET_KEY=bench-only HTTPS=0 DEBUG=0 $(BIN)/python -m tests.bench.energy

bench-web: venv services
	SECRET_KEY=bench-only HTTPS=0 DEBUG=0 STATIC_MANIFEST=0 DATALOGGER_ALLOWED_NETWORKS=127.0.0.0/8 $(BIN)/python -m tests.bench.web

messages: venv
	DEBUG=1 $(BIN)/python manage.py makemessages -l fr -l en --ignore=.venv --ignore=staticfiles
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

# ruff, the layers contract (import-linter) and the type hints (mypy with django-stubs).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(TEST_ENV) $(BIN)/mypy
