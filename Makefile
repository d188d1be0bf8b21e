# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export NEWSMON_HOME ?= $(CURDIR)/var

.PHONY: demo test lint airflow bench profile lock clean install system-tools

install: $(STAMP)

# Re-install only when the pins change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/newsmon demo

# Two tests need Debian packages: docker-compose (`docker-compose config`, no engine needed) and chromium (the
# digest's rendering). Where this account can install them (root and apt-get, as on a fresh CI machine) it does,
# once, and a missing tool then fails its tests; elsewhere (macOS, a non-root account) they are skipped, with
# the reason in pytest's summary.
CAN_INSTALL := $(shell [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && echo 1)
system-tools:
	@command -v docker-compose >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 || \
	if [ "$(CAN_INSTALL)" = 1 ]; then apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose chromium >/dev/null; \
	else echo "make: chromium or docker-compose is missing and cannot be installed here (no root/apt): their tests will be skipped"; fi

# One pytest worker per core; a test file stays on one worker (its tests share servers and module fixtures).
test: $(STAMP) system-tools
	$(BIN)/ruff check .
	NEWSMON_REQUIRE_SYSTEM_TOOLS=$(CAN_INSTALL) $(BIN)/pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

airflow: $(STAMP)
	$(BIN)/newsmon airflow

ONLY ?=
SCALE ?= 1
bench: $(STAMP)
	$(BIN)/python -m bench.run --scale $(SCALE) $(if $(ONLY),--only $(ONLY))

profile: $(STAMP)
	$(BIN)/python -m bench.profile

# Refresh the full pin set after changing pyproject.toml.
lock:
	rm -rf /tmp/newsmon-lock && $(PYTHON) -m venv /tmp/newsmon-lock
	/tmp/newsmon-lock/bin/pip install --quiet --upgrade pip
	/tmp/newsmon-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/newsmon-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) var
