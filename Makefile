# Two commands do everything (see README): `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

.PHONY: install demo test lint bench tools
install: $(BIN)/.installed

# pywb and wacz in a venv of their own (~/.cache/caseharvest/tools-venv, or
# $CASEHARVEST_TOOLS_VENV): pywb's brotlipy would break Scrapy's Brotli decoding in .venv.
tools: install
	$(BIN)/python -m caseharvest.commands.serve.tools_venv

demo: install
	$(BIN)/caseharvest demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint tools
	$(BIN)/pytest

# Run by hand, not in CI: extraction quality, then speed and memory at 2,000 and 20,000 cases
# against wget + trafilatura and a one-process replay loop (needs wget; ~15 minutes).
bench: install
	command -v wget >/dev/null || (apt-get update -qq && apt-get install -y -qq wget)
	$(BIN)/python bench/extract_quality.py
	$(BIN)/python bench/run.py --cases 2000 20000
