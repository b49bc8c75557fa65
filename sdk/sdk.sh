#!/usr/bin/env bash
# sdk/sdk.sh — generate, check and test the SDKs in sdk/python and sdk/typescript.
#
# Usage: sdk.sh deps          install the pinned generators and test tools under .cache/sdk
#        sdk.sh generate [DIR] generate both SDKs from api/openapi.yaml into DIR (default sdk/)
#        sdk.sh check         fail when the committed generated code differs from a fresh generation
#        sdk.sh build         compile the TypeScript SDK (sdk/typescript/dist) and its tests
#        sdk.sh test          run the SDK tests against a stack and gateway started here
#
# Environment: ZL_SDK_SPEC (contract; default api/openapi.yaml), ZL_CACHE_DIR
# and ZL_SDK_STACK_DIR (RocketMQ jar cache and runtime dir for `test`);
# ZL_SDK_KEEP_STACK=1 leaves the stack running after a passing `test` (for
# `make test`, whose Go tests use the same stack and stop it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
CACHE="${ROOT}/.cache/sdk"
SPEC="$(realpath "${ZL_SDK_SPEC:-${ROOT}/api/openapi.yaml}")"
PY="${ZL_PYTHON:-python3}"

log() { printf '[sdk %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# venv DIR REQUIREMENTS: a virtualenv at DIR with exactly REQUIREMENTS
# installed; reinstalled only when the requirements file changed.
venv() {
	local dir=$1 req=$2
	if [[ -x ${dir}/bin/python ]] && cmp -s "$req" "${dir}/.requirements"; then
		return 0
	fi
	log "installing $(basename "$req") into ${dir#"${ROOT}/"}"
	rm -rf "$dir"
	"$PY" -m venv "$dir"
	PIP_CACHE_DIR="${CACHE}/pip" "${dir}/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
	cp "$req" "${dir}/.requirements"
}

deps() {
	mkdir -p "$CACHE"
	venv "${CACHE}/gen-venv" "${ROOT}/sdk/python/requirements-gen.txt"
	venv "${CACHE}/venv" "${ROOT}/sdk/python/requirements-dev.txt"
	# The SDK itself: sdk/python on the virtualenv's path (a .pth file), so
	# the tests and examples import this tree, generated code included.
	"${CACHE}/venv/bin/python" -c 'import sys, sysconfig; open(sysconfig.get_paths()["purelib"] + "/zeroloss-sdk.pth", "w").write(sys.argv[1] + "\n")' \
		"${ROOT}/sdk/python"
	# npm installs from the committed lock file into .cache/sdk/ts;
	# sdk/typescript/node_modules links there.
	local ts="${CACHE}/ts"
	if ! cmp -s "${ROOT}/sdk/typescript/package-lock.json" "${ts}/package-lock.json" || [[ ! -d ${ts}/node_modules ]]; then
		log "installing sdk/typescript's npm packages into ${ts#"${ROOT}/"}"
		rm -rf "$ts"
		mkdir -p "$ts"
		cp "${ROOT}/sdk/typescript/package.json" "${ROOT}/sdk/typescript/package-lock.json" "$ts/"
		(cd "$ts" && npm ci --silent --no-audit --no-fund --cache "${CACHE}/npm" >&2)
	fi
	local link="${ROOT}/sdk/typescript/node_modules"
	if [[ ! -L $link || "$(readlink "$link")" != "${ts}/node_modules" ]]; then
		rm -rf "$link"
		ln -s "${ts}/node_modules" "$link"
	fi
}

generate() {
	local out tmp
	out="$(realpath -m "${1:-${ROOT}/sdk}")"
	tmp="$(mktemp -d)"
	log "generating from ${SPEC#"${ROOT}/"} into ${out#"${ROOT}/"}"
	# openapi-python-client writes a fresh package; its post hooks (ruff)
	# run inside it.
	if ! (cd "$tmp" && PATH="${CACHE}/gen-venv/bin:${PATH}" openapi-python-client generate \
		--path "$SPEC" --meta none --output-path "${tmp}/zeroloss_client" \
		--config "${ROOT}/sdk/python/openapi-python-client.yaml" >"${tmp}/py.log" 2>&1); then
		cat "${tmp}/py.log" >&2
		rm -rf "$tmp"
		return 1
	fi
	mkdir -p "${out}/python"
	rm -rf "${out}/python/zeroloss_client"
	mv "${tmp}/zeroloss_client" "${out}/python/zeroloss_client"
	rm -rf "$tmp"
	(cd "${ROOT}/sdk/typescript" && ZL_SDK_SPEC="$SPEC" ZL_SDK_TS_OUT="${out}/typescript/src/gen" \
		./node_modules/.bin/openapi-ts -s -f openapi-ts.config.mjs >&2)
}

check() {
	local tmp status=0
	tmp="$(mktemp -d)"
	generate "$tmp" || { rm -rf "$tmp"; return 1; }
	diff -r "${ROOT}/sdk/python/zeroloss_client" "${tmp}/python/zeroloss_client" >"${tmp}/py.diff" || status=1
	diff -r "${ROOT}/sdk/typescript/src/gen" "${tmp}/typescript/src/gen" >"${tmp}/ts.diff" || status=1
	if ((status)); then
		head -c 4000 "${tmp}/py.diff" "${tmp}/ts.diff" >&2
		log "the committed SDKs are stale: run 'make sdk' and commit sdk/"
	else
		log "sdk/python/zeroloss_client and sdk/typescript/src/gen match api/openapi.yaml"
	fi
	rm -rf "$tmp"
	return "$status"
}

build() {
	(cd "${ROOT}/sdk/typescript" && ./node_modules/.bin/tsc -p tsconfig.json && ./node_modules/.bin/tsc -p tsconfig.test.json)
}

# ---------------------------------------------------------------------------
# test: one stack, one gateway on a free port, one topic; pytest, then node --test.

GW_PID=""
STACK_DIR="$(realpath -m "${ZL_SDK_STACK_DIR:-${ROOT}/.stack/sdk}")"

stop_gateway() {
	if [[ -n $GW_PID ]] && kill -0 "$GW_PID" 2>/dev/null; then
		kill -TERM "$GW_PID" 2>/dev/null || true
		for _ in $(seq 1 150); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$GW_PID" 2>/dev/null || true
	fi
}

stop_all() {
	stop_gateway
	ZL_STACK_DIR="$STACK_DIR" bash "${ROOT}/deploy/local/stack.sh" down >/dev/null 2>&1 || true
}

run_tests() {
	local gwlog="${CACHE}/gateway.log" url="" topic="sdk-orders" key="sdk-test-key-0001" status=0
	trap stop_all EXIT
	# Its own tenant: whatever shares the stack does not see these resources.
	log "starting the stack in ${STACK_DIR#"${ROOT}/"}"
	# A generous readiness deadline: the 2-core machine is often shared.
	ZL_READY_TIMEOUT="${ZL_READY_TIMEOUT:-240}" ZL_STACK_DIR="$STACK_DIR" bash "${ROOT}/deploy/local/stack.sh" up >/dev/null
	ZL_STACK_DIR="$STACK_DIR" bash "${ROOT}/deploy/local/stack.sh" create-topic "$topic" 4 >/dev/null
	# shellcheck disable=SC1091
	set -a; source "${STACK_DIR}/env"; set +a
	# As testenv.StartGateway: loopback webhooks allowed (the tests serve
	# them), the broker's transactionCheckMax and delay levels.
	ZEROLOSS_LISTEN=127.0.0.1:0 ZEROLOSS_API_KEYS="sdk@sdk-tests:${key}:admin" ZEROLOSS_SHUTDOWN_TIMEOUT=10s \
		ZEROLOSS_ALLOW_PRIVATE_WEBHOOKS=true ZEROLOSS_TX_CHECK_MAX=5 \
		ZEROLOSS_DELAY_LEVELS="1s 1s 1s 1s 2s 2s 2s 2s 3s 3s 3s 3s 4s 4s 4s 4s 5s 5s" \
		"${ROOT}/bin/gateway" >"$gwlog" 2>&1 &
	GW_PID=$!
	for _ in $(seq 1 600); do
		url="$(sed -n 's/.*"msg":"listening".*"addr":"\([^"]*\)".*/http:\/\/\1/p' "$gwlog" | head -1)"
		if [[ -n $url ]] && curl -fsS "${url}/readyz" >/dev/null 2>&1; then break; fi
		kill -0 "$GW_PID" 2>/dev/null || { cat "$gwlog" >&2; log "the gateway exited"; return 1; }
		url=""
		sleep 0.1
	done
	[[ -n $url ]] || { tail -50 "$gwlog" >&2; log "the gateway did not become ready"; return 1; }
	log "gateway ${url} (pid ${GW_PID}), topic ${topic}"
	export ZL_GATEWAY_URL="$url" ZL_API_KEY="$key" ZL_TOPIC="$topic"
	# No warm-up: the examples start as soon as the gateway is ready, so
	# the seed scenario's check-back runs against a gateway seconds old
	# (it registers its transaction group with every master before ready).
	run_examples "$url" "$key" "$topic" || status=1
	(cd "${ROOT}/sdk/python" && "${CACHE}/venv/bin/python" -m pytest -q -p no:cacheprovider ${ZL_SDK_PYTEST_ARGS:-tests}) || status=1
	(cd "${ROOT}/sdk/typescript" && node --test --test-reporter=spec build-test/test/*.test.js) || status=1
	if ((status)); then
		log "gateway log (warnings and errors):"
		grep -v '"level":"INFO"' "$gwlog" | tail -40 >&2 || true
	elif [[ ${ZL_SDK_KEEP_STACK:-} == 1 ]]; then
		trap - EXIT
		stop_gateway
		log "stack left running in ${STACK_DIR#"${ROOT}/"}"
	fi
	return "$status"
}

# run_examples URL KEY TOPIC: the README's examples, first, on the fresh
# topic: both subscribers and both pull consumers, then both transaction
# scripts; each consumer must print TAGA and TAGC of both runs (4 messages)
# and never TAGB.
run_examples() {
	local out="${CACHE}/examples" pids=() status=0 f
	rm -rf "$out"
	mkdir -p "$out"
	export ZEROLOSS_URL=$1 ZEROLOSS_API_KEY=$2 ZEROLOSS_TOPIC=$3
	timeout 150 "${CACHE}/venv/bin/python" -u "${ROOT}/examples/python/subscriber.py" 4 >"${out}/sub-py.log" 2>&1 &
	pids+=($!)
	timeout 150 node "${ROOT}/examples/node/subscriber.mjs" 4 >"${out}/sub-node.log" 2>&1 &
	pids+=($!)
	timeout 150 "${CACHE}/venv/bin/python" -u "${ROOT}/examples/python/pull.py" 4 >"${out}/pull-py.log" 2>&1 &
	pids+=($!)
	timeout 150 node "${ROOT}/examples/node/pull.mjs" 4 >"${out}/pull-node.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 300); do
		grep -qs '^subscription ' "${out}/sub-py.log" && grep -qs '^subscription ' "${out}/sub-node.log" &&
			grep -qs '^subscription ' "${out}/pull-py.log" && grep -qs '^subscription ' "${out}/pull-node.log" && break
		sleep 0.1
	done
	"${CACHE}/venv/bin/python" -u "${ROOT}/examples/python/transactions.py" >"${out}/tx-py.log" 2>&1 || status=1
	node "${ROOT}/examples/node/transactions.mjs" >"${out}/tx-node.log" 2>&1 || status=1
	for pid in "${pids[@]}"; do wait "$pid" || status=1; done
	for f in sub-py sub-node pull-py pull-node; do
		[[ $(grep -c '^TAGA: ' "${out}/${f}.log") == 2 && $(grep -c '^TAGC: ' "${out}/${f}.log") == 2 ]] || status=1
		! grep -q '^TAGB' "${out}/${f}.log" || status=1
	done
	for f in tx-py tx-node sub-py sub-node pull-py pull-node; do
		printf -- '--- examples: %s\n' "$f"
		cat "${out}/${f}.log"
	done
	if ((status)); then log "examples: FAILED"; else log "examples: ok (both transaction scripts, both subscribers, both pull consumers)"; fi
	return "$status"
}

case "${1:-}" in
deps) deps ;;
generate) generate "${2:-}" ;;
check) check ;;
build) build ;;
test) run_tests ;;
*)
	sed -n '2,13p' "$0" >&2
	exit 2
	;;
esac
