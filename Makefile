# Two commands matter to a user: `make demo` and `make test`. Everything they
# need (Debian packages, the project venv from requirements.lock) is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench fuzz soak system-deps venv lock clean

demo: system-deps $(STAMP)
	$(BIN)/scg demo

# pytest exits 5 when it collected nothing: an empty suite is a failure, said plainly.
test: system-deps $(STAMP) lint typecheck
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Not part of `test` (which runs the same test for 3 minutes a start): the demo for an
# hour, Ctrl-C, an hour more on the same state folder; see tests/e2e/test_demo_soak.py.
soak: system-deps $(STAMP)
	SCG_SOAK_SECONDS=$${SCG_SOAK_SECONDS:-3600} $(BIN)/python -m pytest -s \
		tests/e2e/test_demo_soak.py

bench: system-deps $(STAMP)
	$(BIN)/python -m bench

# Not part of `test`: a few minutes of generated hostile input against every decoder of
# untrusted bytes (scripts/fuzz.py); exits 1 if any input raised an unexpected exception.
# e.g. make fuzz FUZZ_ARGS="envelope -n 20000 --seed 7"
fuzz: $(STAMP)
	$(BIN)/python -m scripts.fuzz $(FUZZ_ARGS)

# mosquitto and the PostgreSQL server come from Debian. PostgreSQL is only
# installed when absent so that an existing 15.x is never upgraded behind our back.
system-deps:
	@scripts/system-deps.sh

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

# Regenerate the lock after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --all-extras --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) .scg-state .pytest_cache .mypy_cache .ruff_cache
