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

# The tests need two Debian packages: docker-compose (`docker-compose config`, no engine needed) and chromium
# (the digest's rendering test). A fresh CI machine (root) gets them here, once.
system-tools:
	@command -v docker-compose >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose chromium >/dev/null; }

# One pytest worker per core; a test file stays on one worker (its tests share servers and module fixtures).
test: $(STAMP) system-tools
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n 2 --dist loadfile

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
