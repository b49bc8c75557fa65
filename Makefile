# zeroloss — the two commands a newcomer needs:
#   make dev    start RocketMQ + Redis (installed and cached on first run) and the gateway
#   make test   run every test against a real RocketMQ + Redis it starts and stops itself

SHELL := /bin/bash
GO ?= go
STACK := deploy/local/stack.sh
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

.PHONY: dev dev-ha down chaos chaos-short deploy-lint test test-short e2e bench lint generate build stack

build:
	$(GO) build -o bin/gateway ./cmd/gateway

## dev: start the local stack and run the gateway in the foreground (Ctrl-C stops the gateway; `make down` the stack).
dev: build
	@ZL_STACK_DIR=$(DEV_STACK_DIR) ZL_NAMESRV_PORT=$${ZL_NAMESRV_PORT:-9876} ZL_BROKER_PORT=$${ZL_BROKER_PORT:-10911} \
		ZL_REDIS_PORT=$${ZL_REDIS_PORT:-6379} bash $(STACK) up >/dev/null
	@ZL_STACK_DIR=$(DEV_STACK_DIR) bash $(STACK) create-topic $(DEV_TOPIC) 4 >/dev/null
	@set -a; source $(DEV_STACK_DIR)/env; set +a; \
		echo "gateway on http://$(DEV_LISTEN)  topic $(DEV_TOPIC)  API key $(word 2,$(subst :, ,$(DEV_API_KEYS)))  name server $$ZEROLOSS_NAMESRV  redis $$ZEROLOSS_REDIS_URL"; \
		ZEROLOSS_LISTEN=$(DEV_LISTEN) ZEROLOSS_API_KEYS='$(DEV_API_KEYS)' exec ./bin/gateway

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

## test: every test (unit, integration, e2e) against a real stack started here and stopped after.
test:
	@ZL_STACK_DIR=$(TEST_STACK_DIR) bash $(STACK) up >/dev/null
	@set -o pipefail; status=0; \
		ZL_STACK_DIR=$(TEST_STACK_DIR) ZL_HA_STACK_DIR=$(TEST_HA_STACK_DIR) $(GO) test -count=1 -timeout 40m ./... || status=$$?; \
		ZL_STACK_DIR=$(TEST_STACK_DIR) bash $(STACK) down >/dev/null 2>&1 || true; \
		$(MAKE) --no-print-directory chaos-short CHAOS_STACK_DIR=$(TEST_HA_STACK_DIR) || status=$$?; \
		$(MAKE) --no-print-directory deploy-lint || status=$$?; \
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
		$(GO) run ./bench $(BENCH_ARGS) || status=$$?; \
		ZL_STACK_DIR=$(CURDIR)/.stack/bench bash $(STACK) down >/dev/null 2>&1 || true; exit $$status

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

generate:
	$(GO) generate ./...
	@git diff --exit-code --stat api/ || echo "api/api.gen.go changed: commit it"

stack:
	ZL_STACK_DIR=$(DEV_STACK_DIR) bash $(STACK) up
