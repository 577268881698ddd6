# Imbalanced tabular classification: train -> ONNX -> AWS Lambda.
# `make help` lists the targets.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DATA_DIR    ?= data
DATA_MIRROR ?=
DATA   ?= $(DATA_DIR)/marketing_data.csv
TARGET ?= y
POSITIVE ?= yes
RUN    ?= artifacts
PRESET ?= quick

.DEFAULT_GOAL := help
.PHONY: help setup data train export invoke-local test lint demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv with the pinned training, export and test packages (no-op when up to date)

$(STAMP): requirements/train.txt requirements/dev.txt requirements/constraints.txt lambda_fn/requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt -c requirements/constraints.txt
	touch $(STAMP)

data: ## fetch the demo data into data/ (DATA_MIRROR=folder to copy it from instead)
	DATA_MIRROR=$(DATA_MIRROR) $(PYTHON) scripts/fetch_data.py $(DATA_DIR)

train: setup ## train on DATA (default: the demo data) into RUN
	@if [ "$(DATA)" = "$(DATA_DIR)/marketing_data.csv" ]; then $(MAKE) --no-print-directory data; fi
	$(PY) -m train --data $(DATA) --target $(TARGET) --positive $(POSITIVE) --preset $(PRESET) --out $(RUN)

export: setup ## export RUN to RUN/model.onnx, checked against the Python pipeline
	$(PY) -m export --run $(RUN) --out $(RUN)/model.onnx

invoke-local: setup ## run infra/events/ through the handler in this process (S3 via moto on 127.0.0.1), no Docker
	$(PY) scripts/invoke_local.py --model $(RUN)/model.onnx --data $(DATA) --target $(TARGET)

test: setup ## run the test suite
	$(PY) -m pytest -q

lint: setup ## ruff (lint + format check)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

demo: setup ## the one-command tour: data, train (quick preset), export, score the sample API event and a CSV in local S3
	$(MAKE) --no-print-directory train
	$(MAKE) --no-print-directory export
	$(MAKE) --no-print-directory invoke-local
	@echo "The container image, SAM template and benchmarks are not built yet."

clean: ## remove run folders and caches (keeps .venv)
	rm -rf artifacts .pytest_cache .ruff_cache
