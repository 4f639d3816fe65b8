# MuseBench: two commands for a new user.
#   make demo  - set up .venv, build the synthetic data, run the real models on synth-piano and
#                synth-ensemble, print their leaderboards
#   make test  - set up .venv (+ Chromium and PostgreSQL for the app tests) and run the test suite
# Both are idempotent: set-up is redone only when the install files change.

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.musebench-installed
SYSTEM_STAMP := $(VENV)/.musebench-system-deps
DEMO_MODELS ?= basic-pitch transkun seq2seq-piano oracle noisy-oracle
DEMO_TASK ?= synth-piano
DEMO_ENSEMBLE_MODELS ?= basic-pitch mt3
DEMO_ENSEMBLE_TASK ?= synth-ensemble

.PHONY: setup system-deps demo test test-fast lint typecheck leaderboard clean-venv help

help:
	@echo "make demo   - set up and run the demo (prints a leaderboard)"
	@echo "make test   - set up and run the tests"

$(STAMP): scripts/install.sh requirements.txt pyproject.toml
	bash scripts/install.sh $(VENV)
	@touch $(STAMP)

setup: $(STAMP)

$(SYSTEM_STAMP): scripts/system_deps.sh | $(STAMP)
	bash scripts/system_deps.sh
	@touch $(SYSTEM_STAMP)

system-deps: $(SYSTEM_STAMP)

demo: setup
	$(PY) -m musebench datasets prepare synth
	@for m in $(DEMO_MODELS); do \
	  echo "== $(DEMO_TASK) / $$m"; \
	  $(PY) -m musebench run --task $(DEMO_TASK) --model $$m || exit $$?; \
	done
	$(PY) -m musebench leaderboard --task $(DEMO_TASK)
	@for m in $(DEMO_ENSEMBLE_MODELS); do \
	  echo "== $(DEMO_ENSEMBLE_TASK) / $$m"; \
	  $(PY) -m musebench run --task $(DEMO_ENSEMBLE_TASK) --model $$m || exit $$?; \
	done
	$(PY) -m musebench leaderboard --task $(DEMO_ENSEMBLE_TASK)

# PYTHONFAULTHANDLER: a crash in native code, even at interpreter exit after the summary, prints
# every thread's Python stack (pytest's own faulthandler is off once the session has ended)
test: setup system-deps lint typecheck
	PYTHONFAULTHANDLER=1 $(PY) -m pytest -q -p no:cacheprovider

# ruff and mypy, configured in pyproject.toml (mypy reads the package as `musebench`)
lint: setup
	$(PY) -m ruff check .

typecheck: setup
	$(PY) scripts/typecheck.py

leaderboard: setup
	$(PY) -m musebench datasets prepare synth
	$(PY) -m musebench datasets prepare synth-pairs
	$(PY) scripts/update_leaderboard.py

test-fast: setup
	$(PY) -m pytest -q -m "not browser and not postgres" -p no:cacheprovider

clean-venv:
	rm -rf $(VENV)
