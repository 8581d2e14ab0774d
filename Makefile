# imgflow: every entry point a person or CI uses. Root scripts delegate to turbo.
SHELL := /bin/bash
PNPM_VERSION := 12.4.2
export TURBO_TELEMETRY_DISABLED := 1
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED := true

.PHONY: setup build test typecheck lint clean demo package

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

## test: every test of every package; works on a fresh clone with only Node and npm
test: setup
	pnpm exec turbo run test --continue

## demo: the main job, locally: generate sample images and run them through the workflow
demo: build
	pnpm imgflow samples .imgflow/samples
	pnpm imgflow run .imgflow/samples --out out/demo --data .imgflow/demo
	@echo "Renditions are in out/demo; the job ledger: pnpm imgflow status --data .imgflow/demo"

## package: one deterministic zip per Lambda and architecture, with sha256, in dist/artifacts
package: build
	node apps/release/bin/imgflow-package.js --out dist/artifacts

typecheck: setup
	pnpm run typecheck

lint: setup
	pnpm run lint

clean:
	rm -rf node_modules apps/*/node_modules packages/*/node_modules apps/*/dist packages/*/dist .turbo apps/*/.turbo packages/*/.turbo
