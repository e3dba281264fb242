# The commands README.md names. Everything runs from a private virtual environment in .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RABBITMQ_URL ?= amqp://guest:guest@127.0.0.1:5672//

.PHONY: install test test-drills test-rabbitmq lint format demo bench drills clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "supersms needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with its development tools

test: $(STAMP)  ## run the test suite (starts its own private redis-server); the drills have their own target
	$(BIN)/pytest --ignore=tests/drills

test-drills: $(STAMP)  ## the fault drills short enough for CI, as tests: each must lose nothing and double nothing
	$(BIN)/pytest tests/drills

test-rabbitmq: $(STAMP)  ## the end-to-end suite with RabbitMQ as the broker on 127.0.0.1:5672 (skips where none answers)
	SUPERSMS_TEST_BROKER_URL=$(RABBITMQ_URL) $(BIN)/pytest tests/tasks

lint: $(STAMP)  ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# mypy does not follow setuptools' package-dir mapping: check a linked tree shaped like the package
	rm -rf build/typecheck && mkdir -p build/typecheck/supersms
	cp -rs $(CURDIR)/supersms/. build/typecheck/supersms/
	for part in protocol workers tasks receiver sandbox; do ln -s $(CURDIR)/$$part build/typecheck/supersms/$$part; done
	cd build/typecheck && $(abspath $(BIN))/mypy --config-file $(CURDIR)/pyproject.toml -p supersms

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP)  ## the main job on embedded defaults
	$(BIN)/supersms demo

bench: $(STAMP)  ## benchmarks against the bare minimum, printed as tables (BENCH="--quick send" to choose)
	$(BIN)/python -m bench $(BENCH)

drills: $(STAMP)  ## fault drills: kills, outages, RabbitMQ; each prints lost and doubled (DRILLS="redis-kill" to choose)
	$(BIN)/python -m drills $(DRILLS)
	$(if $(DRILLS),,$(MAKE) --no-print-directory test-rabbitmq VENV=$(VENV))

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
