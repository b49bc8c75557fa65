# zeroloss — the two commands a newcomer needs:
#   make dev    start RocketMQ + Redis (installed and cached on first run) and the gateway
#   make test   run every test against a real RocketMQ + Redis it starts and stops itself,
#               then fuzz a real gateway against api/openapi.yaml (schemathesis)

SHELL := /bin/bash
GO ?= go
STACK := deploy/local/stack.sh
CONTRACT := e2e/contract/run.sh
# Tests use a stack of their own, so `make test` never touches a `make dev` stack.
TEST_STACK_DIR ?= $(CURDIR)/.stack/test
DEV_STACK_DIR ?= $(CURDIR)/.stack/dev
DEV_HA_STACK_DIR ?= $(CURDIR)/.stack/dev-ha
TEST_HA_STACK_DIR ?= $(CURDIR)/.stack/ha-test
CHAOS_STACK_DIR ?= $(CURDIR)/.stack/chaos
DURATION ?= 30m
DEV_API_KEYS ?= dev:dev-secret-key:admin
DEV_LISTEN ?= 127.0.0.1:8080
DEV_TOPIC ?= orders
# Coverage of `make test`: unit test binaries and every e2e gateway process
# (built with -cover by testenv) write counters here; `make cover` totals them
# over every package those binaries hold (all but cmd/bench, which runs in no test), less *.gen.go.
COVER_DIR ?= $(CURDIR)/.cover
# The examples serve their webhooks on loopback; the dev broker checks
# transactions back at most 5 times (deploy/local/stack.sh).
DEV_ENV ?= ZEROLOSS_ALLOW_PRIVATE_WEBHOOKS=true ZEROLOSS_TX_CHECK_MAX=5

.PHONY: dev dev-ha down chaos chaos-short deploy-lint test test-ha test-short e2e contract bench lint generate build stack cover fuzz

build:
	$(GO) build -o bin/gateway ./cmd/gateway

## dev: start the local stack and run the gateway in the foreground (Ctrl-C stops the gateway; `make down` the stack).
dev: build
	@ZL_STACK_DIR=$(DEV_STACK_DIR) ZL_NAMESRV_PORT=$${ZL_NAMESRV_PORT:-9876} ZL_BROKER_PORT=$${ZL_BROKER_PORT:-10911} \
		ZL_REDIS_PORT=$${ZL_REDIS_PORT:-6379} bash $(STACK) up >/dev/null
	@ZL_STACK_DIR=$(DEV_STACK_DIR) bash $(STACK) create-topic $(DEV_TOPIC) 4 >/dev/null
	@set -a; source $(DEV_STACK_DIR)/env; set +a; \
		echo "gateway on http://$(DEV_LISTEN)  topic $(DEV_TOPIC)  API key $(word 2,$(subst :, ,$(DEV_API_KEYS)))  name server $$ZEROLOSS_NAMESRV  redis $$ZEROLOSS_REDIS_URL"; \
		ZEROLOSS_LISTEN=$(DEV_LISTEN) ZEROLOSS_API_KEYS='$(DEV_API_KEYS)' $(DEV_ENV) exec ./bin/gateway

## dev-ha: as dev, on the HA stack (RocketMQ controller mode: two groups of two brokers; Redis under Sentinel).
dev-ha: build
	@ZL_STACK_DIR=$(DEV_HA_STACK_DIR) bash $(STACK) up --ha >/dev/null
	@ZL_STACK_DIR=$(DEV_HA_STACK_DIR) bash $(STACK) create-topic $(DEV_TOPIC) 4 >/dev/null
	@set -a; source $(DEV_HA_STACK_DIR)/env; set +a; \
		echo "gateway on http://$(DEV_LISTEN)  topic $(DEV_TOPIC)  name server $$ZEROLOSS_NAMESRV  sentinels $$ZEROLOSS_REDIS_ADDRS ($$ZEROLOSS_REDIS_MASTER_NAME)"; \
		ZEROLOSS_LISTEN=$(DEV_LISTEN) ZEROLOSS_API_KEYS='$(DEV_API_KEYS)' exec ./bin/gateway

## down: stop the dev stack, and the shared one a plain `go test ./...` leaves running.
down:
	ZL_STACK_DIR=$(DEV_STACK_DIR) bash $(STACK) down
	ZL_STACK_DIR=$(DEV_HA_STACK_DIR) bash $(STACK) down
	ZL_STACK_DIR=$(CURDIR)/.stack/default bash $(STACK) down
	ZL_STACK_DIR=$(CURDIR)/.stack/ha-default bash $(STACK) down

## test: every test (unit, integration, e2e) and the contract fuzzing (e2e/contract/run.sh:
## schemathesis against a gateway it starts) against a real stack started here and stopped after,
## then the broker-tier tests and the short ledger run on the HA stack (test-ha).
test:
	@ZL_STACK_DIR=$(TEST_STACK_DIR) bash $(STACK) up >/dev/null
	@rm -rf $(COVER_DIR) && mkdir -p $(COVER_DIR)/unit $(COVER_DIR)/e2e
	@set -o pipefail; status=0; \
		ZL_STACK_DIR=$(TEST_STACK_DIR) ZL_COVER_DIR=$(COVER_DIR)/e2e $(GO) test -count=1 -timeout 20m -cover ./... \
			-args -test.gocoverdir=$(COVER_DIR)/unit || status=$$?; \
		ZL_STACK_DIR=$(TEST_STACK_DIR) GO=$(GO) bash $(CONTRACT) || status=$$?; \
		ZL_STACK_DIR=$(TEST_STACK_DIR) bash $(STACK) down >/dev/null 2>&1 || true; \
		$(MAKE) --no-print-directory test-ha ZL_COVER_DIR=$(COVER_DIR)/e2e || status=$$?; \
		$(MAKE) --no-print-directory fuzz || status=$$?; \
		$(MAKE) --no-print-directory deploy-lint || status=$$?; \
		$(MAKE) -s cover || true; \
		exit $$status

## cover: total statement coverage of non-generated code from the last `make test` (unit + e2e gateways),
## without cmd/bench (the benchmark tool, run by `make bench`; its unit test covers only its report).
cover:
	@dirs=$$(find $(COVER_DIR) -name 'covmeta.*' -exec dirname {} \; | sort -u | paste -sd, -); \
		test -n "$$dirs" || { echo "no coverage data in $(COVER_DIR): run make test"; exit 1; }; \
		$(GO) tool covdata textfmt -i=$$dirs -o $(COVER_DIR)/all.txt && \
		grep -v -e '\.gen\.go:' -e '/cmd/bench/' $(COVER_DIR)/all.txt > $(COVER_DIR)/cover.out && \
		$(GO) tool cover -func=$(COVER_DIR)/cover.out | tail -1 | sed 's/^total:[[:space:]]*(statements)[[:space:]]*/total coverage (unit + e2e, non-generated, without cmd\/bench): /'

## fuzz: every Fuzz* target of the module, found with `go test -list`, for
## FUZZTIME each (the seed corpora in testdata/fuzz also run in plain `go test`).
## A failing input is written to the package's testdata/fuzz/<target>/: commit it with the fix.
FUZZTIME ?= 5s
fuzz:
	@set -o pipefail; targets=$$($(GO) test -list '^Fuzz' ./... | \
		awk '/^Fuzz/ { f[n++] = $$1; next } /^ok / { for (i = 0; i < n; i++) print $$2 " " f[i] } { n = 0 }') || exit 1; \
	[ -n "$$targets" ] || { echo "fuzz: no Fuzz targets found" >&2; exit 1; }; \
	while read -r pkg target; do \
		echo "fuzz: $$pkg $$target for $(FUZZTIME)"; \
		out=$$($(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) "$$pkg" 2>&1); rc=$$?; echo "$$out"; \
		if [ $$rc -ne 0 ] && grep -q 'context deadline exceeded' <<<"$$out" && ! grep -q 'Failing input written' <<<"$$out"; then \
			echo "fuzz: $$target: a bare 'context deadline exceeded' with no failing input is Go's -fuzztime shutdown race (golang/go#75804, fixed in Go 1.27): once more"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) "$$pkg" || exit 1; \
		elif [ $$rc -ne 0 ]; then exit 1; fi; \
	done <<< "$$targets"

## contract: only the contract fuzzing (schemathesis, all phases and checks) against a real gateway.
contract:
	@ZL_STACK_DIR=$(TEST_STACK_DIR) bash $(STACK) up >/dev/null
	@status=0; ZL_STACK_DIR=$(TEST_STACK_DIR) GO=$(GO) bash $(CONTRACT) || status=$$?; \
		ZL_STACK_DIR=$(TEST_STACK_DIR) bash $(STACK) down >/dev/null 2>&1 || true; exit $$status

## test-ha: the broker-tier tests on the HA stack (controller mode, Redis under Sentinel): the
## failover e2e tests (build tag ha) and the short ledger run; part of `make test`, after the single-broker tests.
test-ha:
	@set -o pipefail; status=0; \
		ZL_HA_STACK_DIR=$(TEST_HA_STACK_DIR) ZL_COVER_DIR=$(ZL_COVER_DIR) $(GO) test -tags ha -count=1 -timeout 40m -run '^TestHA' ./e2e/ || status=$$?; \
		$(MAKE) --no-print-directory chaos-short CHAOS_STACK_DIR=$(TEST_HA_STACK_DIR) || status=$$?; \
		exit $$status

## chaos-short: the ledger (cmd/ledger) on the HA stack: 150 s of mixed load, one fault of each kind; stops the stack after.
chaos-short:
	@status=0; $(GO) run ./cmd/ledger -stack $(CHAOS_STACK_DIR) -duration 150s -fault-every 30s || status=$$?; \
		ZL_STACK_DIR=$(CHAOS_STACK_DIR) bash $(STACK) down >/dev/null 2>&1 || true; exit $$status

## chaos: the ledger for DURATION (default 30m), every fault kind in turn every 45 s.
chaos:
	@status=0; $(GO) run ./cmd/ledger -stack $(CHAOS_STACK_DIR) -duration $(DURATION) -fault-every 45s -settle 10m || status=$$?; \
		ZL_STACK_DIR=$(CHAOS_STACK_DIR) bash $(STACK) down >/dev/null 2>&1 || true; exit $$status

## deploy-lint: offline checks of deploy/ (Kubernetes schemas, Compose schema, broker configs = the tested ones).
deploy-lint:
	bash deploy/validate.sh

## test-short: unit tests only (no services).
test-short:
	$(GO) test -short -count=1 ./...

## e2e: the end-to-end tests only.
e2e:
	@ZL_STACK_DIR=$(TEST_STACK_DIR) bash $(STACK) up >/dev/null
	@status=0; ZL_STACK_DIR=$(TEST_STACK_DIR) $(GO) test -count=1 -timeout 20m -v ./e2e/... || status=$$?; \
		ZL_STACK_DIR=$(TEST_STACK_DIR) bash $(STACK) down >/dev/null 2>&1 || true; exit $$status

## bench: native RocketMQ client vs the gateway, same broker, same concurrency, one run.
bench: build
	@ZL_STACK_DIR=$(CURDIR)/.stack/bench bash $(STACK) up >/dev/null
	@status=0; set -a; source $(CURDIR)/.stack/bench/env; set +a; \
		$(GO) run ./cmd/bench $(BENCH_ARGS) || status=$$?; \
		ZL_STACK_DIR=$(CURDIR)/.stack/bench bash $(STACK) down >/dev/null 2>&1 || true; exit $$status

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

generate:
	$(GO) generate ./...
	@git diff --exit-code --stat api/ || echo "api/api.gen.go changed: commit it"

stack:
	ZL_STACK_DIR=$(DEV_STACK_DIR) bash $(STACK) up

## sdk: generate sdk/python and sdk/typescript from api/openapi.yaml (pinned generators, installed under .cache/sdk).
.PHONY: sdk sdk-deps sdk-check sdk-test
sdk:
	@bash sdk/sdk.sh deps
	@bash sdk/sdk.sh generate

## sdk-deps: what the SDK tests and the examples run with (a virtualenv, npm packages, the compiled TypeScript SDK).
sdk-deps:
	@bash sdk/sdk.sh deps
	@bash sdk/sdk.sh build

## sdk-check: fail when the committed SDKs differ from what api/openapi.yaml generates.
sdk-check:
	@bash sdk/sdk.sh deps
	@bash sdk/sdk.sh check

## sdk-test: the examples and SDK tests (pytest, node --test) against a stack and gateway of their own.
SDK_STACK_DIR ?= $(CURDIR)/.stack/sdk
sdk-test: build sdk-deps
	@ZL_SDK_STACK_DIR=$(SDK_STACK_DIR) ZL_SDK_KEEP_STACK=$(SDK_KEEP_STACK) bash sdk/sdk.sh test

# `make test` also checks that the committed SDKs match the contract and runs
# their tests first, on the test stack, which it leaves up for the Go tests.
test: SDK_STACK_DIR = $(TEST_STACK_DIR)
test: SDK_KEEP_STACK = 1
test: sdk-check sdk-test

## console-deps: Debian's chromium, which the console's browser test (e2e/console_test.go) drives;
## installed with apt-get only when missing.
.PHONY: console-deps
console-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "console-deps: chromium missing: installing it with apt-get" >&2; \
		sudo=; [ "$$(id -u)" -eq 0 ] || sudo="sudo -n"; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 update >&2 && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 \
			install chromium >&2 && command -v chromium >/dev/null; }

# The console test needs Chromium: `make test` and `make e2e` install it first.
test: console-deps
e2e: console-deps
