# Imbalanced tabular classification: train -> ONNX -> AWS Lambda.
# `make help` lists the targets.

PYTHON ?= python3
VENV   := .venv
TOOLS  := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
CHECKOV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV)/.installed
SAM    := SAM_CLI_TELEMETRY=0 $(CURDIR)/$(TOOLS)/bin/sam
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DATA_DIR    ?= data
DATA_MIRROR ?=
DATA   ?= $(DATA_DIR)/marketing_data.csv
TARGET ?= y
POSITIVE ?= yes
RUN    ?= artifacts
PRESET ?= quick
PORT   ?= 8000
ARCH   ?= x86_64

.DEFAULT_GOAL := help
.PHONY: help setup tools security data train export invoke-local invoke-rie image-wheels python-wheels serve contract-test invoke build deploy validate test lint demo results bench bench-quality xgboost-settings messy results-big clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv with the pinned training, export and test packages (no-op when up to date)

$(STAMP): requirements/train.txt requirements/dev.txt requirements/constraints.txt lambda_fn/requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt -c requirements/constraints.txt
	touch $(STAMP)

tools: $(TOOLS_STAMP) ## .venv-tools with aws-sam-cli, cfn-lint and hadolint (pinned)

$(TOOLS_STAMP): requirements/tools.txt
	test -d $(TOOLS) || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check -r requirements/tools.txt
	touch $(TOOLS_STAMP)

$(CHECKOV_STAMP): requirements/checkov.txt
	test -d $(CHECKOV) || $(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install --quiet --disable-pip-version-check -r requirements/checkov.txt
	touch $(CHECKOV_STAMP)

data: ## fetch the demo data into data/ (DATA_MIRROR=folder to copy it from instead)
	DATA_MIRROR=$(DATA_MIRROR) $(PYTHON) scripts/fetch_data.py $(DATA_DIR)

train: setup ## train on DATA (default: the demo data) into RUN
	@if [ "$(DATA)" = "$(DATA_DIR)/marketing_data.csv" ]; then $(MAKE) --no-print-directory data; fi
	$(PY) -m train --data $(DATA) --target $(TARGET) --positive $(POSITIVE) --preset $(PRESET) --out $(RUN)

export: setup ## export RUN to RUN/model.onnx, checked against the Python pipeline
	$(PY) -m export --run $(RUN) --out $(RUN)/model.onnx

invoke-local: setup ## run infra/events/ through the handler in this process (S3 via moto on 127.0.0.1), no Docker
	$(PY) scripts/invoke_local.py --model $(RUN)/model.onnx --data $(DATA) --target $(TARGET)

invoke-rie: setup tools ## infra/events/ under the real Lambda runtime (RIE + awslambdaric) as a non-root user, S3 via moto, no Docker
	$(PY) scripts/invoke_rie.py --model $(RUN)/model.onnx --data $(DATA) --target $(TARGET)

image-wheels: setup ## check that lambda_fn/requirements.txt has wheels for the Dockerfile's base (x86_64 and arm64), no Docker
	$(PY) scripts/image_wheels.py

python-wheels: setup ## check that every pin in requirements/ has a wheel for Python 3.11, 3.12 and 3.13 (nothing installed)
	$(PY) scripts/python_wheels.py

serve: setup ## local HTTP endpoint on 127.0.0.1:PORT (default 8000) for RUN/model.onnx, no Docker
	$(PY) scripts/serve.py --model $(RUN)/model.onnx --port $(PORT) $(SERVE_ARGS)

contract-test: setup ## Schemathesis, every check, against a running `make serve` on PORT (its own /openapi.json)
	$(VENV)/bin/st run http://127.0.0.1:$(PORT)/openapi.json --checks all --max-examples 300

test: setup tools ## run the test suite (the real-runtime tests need the RIE from .venv-tools)
	$(PY) -m pytest -q

lint: setup tools ## ruff (with its security rules), hadolint, cfn-lint, sam validate --lint, checkov
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TOOLS)/bin/hadolint Dockerfile
	$(PY) scripts/image_wheels.py
	$(PY) scripts/python_wheels.py
	$(MAKE) --no-print-directory validate
	$(MAKE) --no-print-directory security

security: $(CHECKOV_STAMP) ## checkov on the template and the Dockerfile (each skip is justified where it applies)
	BC_SKIP_MAPPING=TRUE $(CHECKOV)/bin/checkov --quiet --compact --skip-download \
	  --framework cloudformation dockerfile -f infra/template.yaml -f Dockerfile

validate: tools ## cfn-lint and sam validate --lint on infra/template.yaml
	$(TOOLS)/bin/cfn-lint infra/template.yaml
	cd infra && $(SAM) validate --lint --region us-east-1

define need_docker
	@command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 || { \
	  echo "error: '$@' needs a running Docker engine (sam builds and runs the Lambda image in it)."; \
	  echo "Without Docker, 'make invoke-local' runs the same sample events in this Python process."; \
	  exit 2; }
endef

build: tools ## sam build: the Lambda image from Dockerfile for ARCH (x86_64 or arm64; needs Docker and RUN/model.onnx)
	$(need_docker)
	@test -f artifacts/model.onnx || { echo "error: artifacts/model.onnx missing; run 'make export' first"; exit 2; }
	cd infra && $(SAM) build --use-buildkit --parameter-overrides Architecture=$(ARCH)

invoke: build ## sam local invoke with every sample event in infra/events/ (needs Docker)
	@cd infra && for e in events/*.json; do echo "== $$e"; \
	  case $$e in events/api-*) fn=ApiFunction;; *) fn=BatchFunction;; esac; \
	  $(SAM) local invoke $$fn --event $$e || exit 1; done

deploy: build ## sam deploy --guided (needs Docker and AWS credentials)
	cd infra && $(SAM) deploy --guided

demo: setup ## the one-command tour: data, train (quick preset), export, score the sample API event and a CSV in local S3
	$(MAKE) --no-print-directory train
	$(MAKE) --no-print-directory export
	$(MAKE) --no-print-directory invoke-local
	@echo "Next: make build && make deploy (needs Docker and AWS credentials); see docs/deploy.md."

TELECOM ?= ../shared/data/telecom_churn.csv

RESULTS_BUDGET ?= 600

results: setup data ## the default search and a larger one (full preset, RESULTS_BUDGET s) on both datasets -> docs/results.md (about 25 minutes on 2 cores)
	$(PY) -m train --data $(DATA_DIR)/marketing_data.csv --target y --positive yes --out runs/results/marketing --no-progress
	$(PY) -m train --data $(TELECOM) --target churn --positive True --drop "phone number" --out runs/results/telecom --no-progress
	$(PY) -m train --data $(DATA_DIR)/marketing_data.csv --target y --positive yes --preset full --budget $(RESULTS_BUDGET) --out runs/results/marketing-full --no-progress
	$(PY) -m train --data $(TELECOM) --target churn --positive True --drop "phone number" --preset full --budget $(RESULTS_BUDGET) --out runs/results/telecom-full --no-progress
	$(PY) scripts/write_results.py --marketing runs/results/marketing --telecom runs/results/telecom \
	    --marketing-full runs/results/marketing-full --telecom-full runs/results/telecom-full

bench: setup data ## benchmarks (latency, 1M-row batch, cold start, size, training time) -> docs/benchmarks.md/.json
	@test -f $(RUN)/model.onnx || { $(MAKE) --no-print-directory train && $(MAKE) --no-print-directory export; }
	@test -f runs/marketing-keras/model.onnx || { \
	  $(PY) -m train --data $(DATA) --target $(TARGET) --positive $(POSITIVE) --models keras --samplers none --no-ensemble --out runs/marketing-keras && \
	  $(PY) -m export --run runs/marketing-keras; }
	$(PY) scripts/bench.py --run $(RUN) --keras-run runs/marketing-keras --data $(DATA) --target $(TARGET) \
	    --runs runs/results --json docs/benchmarks.json --markdown docs/benchmarks.md

FLAML_VENV  := .venv-flaml
FLAML_STAMP := $(FLAML_VENV)/.installed
BUDGET ?= 120

$(FLAML_STAMP): requirements/flaml.txt
	test -d $(FLAML_VENV) || $(PYTHON) -m venv $(FLAML_VENV)
	$(FLAML_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/flaml.txt
	touch $(FLAML_STAMP)

results-big: setup ## a generated 1,000,000-row table, --budget 60 (and BIG_COMPARE=600 for the AUC gap): search/end-to-end seconds, refit estimate, trials, peak RSS, test ROC AUC
	$(PY) scripts/big_results.py --rows $(or $(BIG_ROWS),1000000) --budget $(or $(BIG_BUDGET),60) $(if $(BIG_COMPARE),--compare $(BIG_COMPARE))

bench-quality: setup data $(FLAML_STAMP) ## the search and FLAML (own venv) at the same BUDGET (120 s) on both datasets -> docs/results.md
	nice $(PY) scripts/bench_quality.py --budget $(BUDGET) --telecom $(TELECOM) \
	    --marketing $(DATA_DIR)/marketing_data.csv --flaml-python $(FLAML_VENV)/bin/python \
	    --runs runs/bench-quality --json docs/bench-quality.json --markdown docs/results.md

xgboost-settings: setup data ## CV of five XGBoost settings with their serving cost -> docs/xgboost-settings.md (about a minute)
	$(PY) scripts/xgboost_settings.py --data $(DATA_DIR)/marketing_data.csv --target y --positive yes \
	    --markdown docs/xgboost-settings.md

messy: setup ## python -m train --budget 60 on a generated messy CRM table vs LightGBM on hand-parsed columns (about 3 minutes)
	$(PY) scripts/messy_compare.py --budget 60 --out runs/messy

clean: ## remove run folders and caches (keeps .venv)
	rm -rf artifacts runs infra/.aws-sam .pytest_cache .ruff_cache

.PHONY: arm64-check
arm64-check: setup data ## the pinned aarch64 onnxruntime imports and scores with /sys/devices/system/cpu hidden (qemu-user; needs root, Debian)
	@test -f $(RUN)/model.onnx || { $(MAKE) --no-print-directory train && $(MAKE) --no-print-directory export; }
	@command -v qemu-aarch64-static >/dev/null || apt-get install -y -qq qemu-user-static
	$(PY) scripts/arm64_check.py --model $(RUN)/model.onnx --data $(DATA)

.PHONY: cost
cost: setup ## a month's bill from docs/benchmarks.json (make bench) and published prices -> docs/cost.md
	$(PY) scripts/cost.py --bench docs/benchmarks.json --arm64 docs/arm64-check.json --out docs/cost.md
