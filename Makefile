# imgflow: every entry point a person or CI uses. Root scripts delegate to turbo.
SHELL := /bin/bash
PNPM_VERSION := 12.4.2
export TURBO_TELEMETRY_DISABLED := 1
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED := true

.PHONY: setup build test typecheck lint clean demo package plan deploy destroy check-terraform check-aws bench reliability

## setup: install pnpm $(PNPM_VERSION) when missing, then the workspace dependencies
setup:
	@if ! command -v pnpm >/dev/null 2>&1 || [ "$$(pnpm --version)" != "$(PNPM_VERSION)" ]; then \
		echo "Installing pnpm $(PNPM_VERSION) with npm"; \
		npm install --global --no-fund --no-audit pnpm@$(PNPM_VERSION); \
	fi
	pnpm install --frozen-lockfile

## build: build every package (tsup)
build: setup
	pnpm run build

## test: every test of every package; works on a fresh clone with Node and npm (and installs Debian's chromium, for the console's browser tests, when missing)
test: setup
	@scripts/ensure-chromium.sh || echo "make: carrying on without Chromium: the console's browser tests will fail (see above)"
	pnpm exec turbo run test --continue --concurrency=2

## demo: the main job, locally: generate sample images and run them through the workflow
demo: build
	pnpm imgflow samples .imgflow/samples
	pnpm imgflow run .imgflow/samples --out out/demo --data .imgflow/demo
	@echo "Renditions are in out/demo; the job ledger: pnpm imgflow status --data .imgflow/demo"
	@echo "Look at them in the console: pnpm imgflow console --data .imgflow/demo"
	@echo "  then open http://127.0.0.1:4580/  (xdg-open http://127.0.0.1:4580/ on Linux, open http://127.0.0.1:4580/ on macOS)"

## package: one deterministic zip per Lambda and architecture, with sha256, in dist/artifacts
package: build
	node apps/release/bin/imgflow-package.js --out dist/artifacts

BENCH_ARGS ?=

## bench: imgflow against its floor, a naive pipeline and ImageMagick; tables + bench/results/latest.json (BENCH_ARGS=--quick for a smoke run)
bench: build
	node apps/bench/bin/imgflow-bench.js $(BENCH_ARGS)

RELIABILITY_ARGS ?=

## reliability: load, injected faults, lifecycle (time/payload limits, replays, OOM, throttling), kill-and-rerun, hostile inputs, 50 MP memory, logs, audit; one table + bench/results/reliability.json (RELIABILITY_ARGS=--quick for CI size)
reliability: build
	node apps/reliability/bin/imgflow-reliability.js $(RELIABILITY_ARGS)

TF_DIR ?= infra/envs/dev
TF_ARGS ?=

check-terraform:
	@command -v terraform >/dev/null 2>&1 || { \
		echo "make: terraform is not installed. Install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install)"; \
		echo "      or OpenTofu (then: make deploy TERRAFORM=tofu). Nothing was changed."; exit 1; }

check-aws:
	@if [ -z "$$AWS_PROFILE$$AWS_ACCESS_KEY_ID$$AWS_WEB_IDENTITY_TOKEN_FILE$$AWS_CONTAINER_CREDENTIALS_FULL_URI" ] && [ ! -f "$$HOME/.aws/credentials" ] && [ ! -f "$$HOME/.aws/config" ]; then \
		echo "make: no AWS credentials found. Set AWS_PROFILE (aws configure / aws sso login) or AWS_ACCESS_KEY_ID and"; \
		echo "      AWS_SECRET_ACCESS_KEY, then run again. Nothing was changed."; exit 1; fi

## plan: package, then terraform init + plan in $(TF_DIR)
plan: check-terraform check-aws package
	cd $(TF_DIR) && terraform init -input=false && terraform plan -input=false -var="artifacts_dir=$(CURDIR)/dist/artifacts" $(TF_ARGS)

## deploy: package, then terraform init + apply in $(TF_DIR); prints the outputs imgflow submit needs
deploy: check-terraform check-aws package
	cd $(TF_DIR) && terraform init -input=false && terraform apply -input=false -var="artifacts_dir=$(CURDIR)/dist/artifacts" $(TF_ARGS)
	cd $(TF_DIR) && terraform output

## destroy: terraform destroy in $(TF_DIR) (buckets must be empty unless force_destroy = true)
destroy: check-terraform check-aws
	cd $(TF_DIR) && terraform destroy -input=false -var="artifacts_dir=$(CURDIR)/dist/artifacts" $(TF_ARGS)

typecheck: setup
	pnpm run typecheck

lint: setup
	pnpm run lint

clean:
	rm -rf node_modules apps/*/node_modules packages/*/node_modules apps/*/dist packages/*/dist .turbo apps/*/.turbo packages/*/.turbo
