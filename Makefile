# `make run` and `make test` need only Python 3.11+ and make: both create
# .venv and install requirements.txt into it on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Extra arguments for run.py or pytest, such as ARGS="--port 9000" for
# `make run` or ARGS="-k preconditions -x" for `make test`.
ARGS ?=

.PHONY: run test bench install clean

$(BIN)/.installed: requirements.txt requirements-runtime.txt
	$(PYTHON) -c 'import sys; sys.exit("personsvc needs Python 3.11 or newer; set PYTHON=python3.11" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python run.py $(ARGS)

test: install
	$(BIN)/python -m pytest $(ARGS)

# Benchmarks; docs/benchmarks.md records a run and how to read it.
bench: install
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/bulk.py
	$(BIN)/python bench/stream_memory.py

clean:
	rm -rf $(VENV) .pytest_cache
