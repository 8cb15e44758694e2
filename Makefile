# The two commands: `make dev` runs the whole architecture on loopback; `make test` runs every test.
# Both prepare what they need themselves (scripts/bootstrap.sh): `make dev` only what running needs,
# `make test` the test tools too (the dev extras, checkov, Chromium).
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: dev test bench build lint bootstrap clean

dev:
	@scripts/bootstrap.sh
	@$(BIN)/agentarch dev $(ARGS)

test:
	@scripts/bootstrap.sh --test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest --durations=25

# Every benchmark of bench/registry.py; writes bench/results/latest.{json,md} (needs moto: --test).
bench:
	@scripts/bootstrap.sh --test
	$(BIN)/python -m bench $(ARGS)

build:
	@scripts/bootstrap.sh
	@$(BIN)/agentarch build $(ARGS)

lint:
	@scripts/bootstrap.sh --test
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bootstrap:
	@scripts/bootstrap.sh --test

clean:
	rm -rf $(VENV) .venv-checkov .pytest_cache .mypy_cache .ruff_cache
