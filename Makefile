# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv on first use; nothing has to be installed by hand.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Debian packages the tests use when present (real SIP peers for interop tests;
# Dovecot's IMAP server for the e-mail channel's tests).
SYSTEM_PACKAGES ?= sip-tester baresip kamailio chromium dovecot-imapd

.PHONY: demo test lint typecheck pytest docs system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m callcenter_sdk demo

test: $(STAMP) system-deps lint typecheck docs pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The documentation site (mkdocs.yml), API reference from the docstrings;
# --strict turns every warning (a broken link, a docstring griffe cannot read)
# into a failure. Built inside the venv, out of the way of the checkout.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir $(VENV)/site

# pytest exits 5 when it collected no test: treat that as a failure of its own
# kind (reported), not as success and not as a crash.
pytest: $(STAMP)
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# Installs the Debian packages in SYSTEM_PACKAGES when we are root with apt-get;
# otherwise the tests that need them are skipped with a visible reason.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing system packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) \
	    || echo "could not install$$missing: tests needing them will be skipped" >&2; \
	else echo "not root or no apt-get: tests needing$$missing will be skipped" >&2; fi

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist
