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
	$(BIN)/python -m caseharvest.serve.tools_venv

demo: install
	$(BIN)/caseharvest demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint tools
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/extract_quality.py
