# hadml developer entry points. On a fresh Debian machine:
#   make demo   # set up .venv, build, run the main job end to end
#   make test   # set up .venv, build with -Werror, ruff, import layers, mypy, pytest
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# The CPU build of torch; where a local wheel directory exists it is used (no GPU wheels pulled).
TORCH  ?= torch==2.13.0
WHEELS ?= /opt/wheels
PIP     = $(BIN)/python -m pip -q --disable-pip-version-check

.PHONY: demo test dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.deps-stamp: $(BIN)/python pyproject.toml
	$(PIP) install $(if $(wildcard $(WHEELS)/torch-*.whl),--find-links $(WHEELS)) "$(TORCH)"
	$(PIP) install "scikit-build-core>=0.10" "pybind11>=2.13" "cmake>=3.18" ninja
	touch $@

dev: $(VENV)/.deps-stamp
	$(PIP) install --no-build-isolation -e ".[test]" -Ccmake.define.HADML_WERROR=ON

test: dev
	$(BIN)/ruff check python tests benchmarks scripts
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m mypy.stubtest hadml._core --allowlist tests/stubtest-allowlist.txt
	$(BIN)/python -m pytest

demo: dev
	$(BIN)/hadml demo

clean:
	rm -rf build $(VENV)
