#!/usr/bin/env bash
# e2e/contract/run.sh — fuzz a real gateway against api/openapi.yaml with
# schemathesis (all phases, all checks, authenticated). Any failure, any
# server error, or fewer than ZL_CONTRACT_MIN_REQUESTS requests fails the run.
#
# Needs a running stack (deploy/local/stack.sh up) in ZL_STACK_DIR. The script
#   1. installs the pinned schemathesis into a project-local virtualenv under
#      .cache/ (once; later runs reuse it),
#   2. builds cmd/gateway, creates the topic the run sends to, and starts the
#      gateway on a free port against the stack (its own Redis database,
#      emptied first, so the run neither sees nor leaves other tests' data),
#   3. runs schemathesis with e2e/contract/schemathesis.toml and the hooks in
#      e2e/contract/hooks.py, then stops the gateway.
#
# Environment:
#   ZL_STACK_DIR               the stack's runtime dir (required)
#   ZL_CONTRACT_SEED           schemathesis seed; random when unset (printed)
#   ZL_CONTRACT_MAX_EXAMPLES   test cases per operation and phase; default 15
#   ZL_CONTRACT_MIN_REQUESTS   fewest requests the run must make; default 1000
#   ZL_CONTRACT_REDIS_DB       Redis database for the run's gateway; default 1
#   ZL_CONTRACT_ST_ARGS        more `st run` options (e.g. --phases fuzzing)
#   PYTHON                     the interpreter that makes the venv; default python3
#   GO                         the go command; default go
#
# The gateway's log is kept in $ZL_STACK_DIR/contract/gateway.log.

set -euo pipefail

readonly SCHEMATHESIS_VERSION=4.32.5

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/../.." && pwd -P)"
readonly SCRIPT_DIR REPO_ROOT
readonly VENV="${REPO_ROOT}/.cache/schemathesis-${SCHEMATHESIS_VERSION}"
readonly TOPIC=orders
readonly API_KEY=contract-admin-key

log() { printf '[contract %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

: "${ZL_STACK_DIR:?set ZL_STACK_DIR to a running stack (deploy/local/stack.sh up)}"
[[ -f ${ZL_STACK_DIR}/env ]] || die "no stack in ${ZL_STACK_DIR}: run deploy/local/stack.sh up first"
max_examples=${ZL_CONTRACT_MAX_EXAMPLES:-15}
min_requests=${ZL_CONTRACT_MIN_REQUESTS:-1000}
redis_db=${ZL_CONTRACT_REDIS_DB:-1}
seed=${ZL_CONTRACT_SEED:-$((RANDOM * 32768 + RANDOM))}

# install_schemathesis: a virtualenv with the pinned version; the marker file
# is written last, so an interrupted install is redone.
install_schemathesis() {
	local marker="${VENV}/.complete"
	[[ -f $marker && -x ${VENV}/bin/st ]] && return 0
	log "installing schemathesis ${SCHEMATHESIS_VERSION} into ${VENV}"
	rm -rf "$VENV"
	"${PYTHON:-python3}" -m venv "$VENV"
	"${VENV}/bin/pip" install --quiet --disable-pip-version-check "schemathesis==${SCHEMATHESIS_VERSION}"
	"${VENV}/bin/st" --version >/dev/null
	touch "$marker"
}

install_schemathesis

# shellcheck disable=SC1091
set -a && source "${ZL_STACK_DIR}/env" && set +a
redis_url="${ZEROLOSS_REDIS_URL%/*}/${redis_db}"

work="${ZL_STACK_DIR}/contract"
rm -rf "$work"
mkdir -p "$work"
gateway_pid=
cleanup() {
	if [[ -n $gateway_pid ]] && kill -0 "$gateway_pid" 2>/dev/null; then
		kill -TERM "$gateway_pid" 2>/dev/null || true
		wait "$gateway_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

log "building the gateway"
(cd "$REPO_ROOT" && "${GO:-go}" build -o "${work}/gateway" ./cmd/gateway)
bash "${REPO_ROOT}/deploy/local/stack.sh" create-topic "$TOPIC" 4 >/dev/null
redis-cli -u "$redis_url" FLUSHDB >/dev/null

# The gateway listens on a port the kernel picks and logs it ("listening").
# Webhook URLs may point anywhere: the run checks the contract, not the SSRF
# guard (which the contract documents as a 400 invalid-webhook-url).
ZEROLOSS_LISTEN=127.0.0.1:0 \
	ZEROLOSS_NAMESRV="$ZEROLOSS_NAMESRV" \
	ZEROLOSS_REDIS_URL="$redis_url" \
	ZEROLOSS_API_KEYS="contract:${API_KEY}:admin" \
	ZEROLOSS_ALLOW_PRIVATE_WEBHOOKS=true \
	ZEROLOSS_SHUTDOWN_TIMEOUT=10s \
	"${work}/gateway" >"${work}/gateway.log" 2>&1 &
gateway_pid=$!

url=
for _ in $(seq 600); do
	kill -0 "$gateway_pid" 2>/dev/null || die "the gateway exited: $(tail -n 20 "${work}/gateway.log")"
	addr="$(sed -n 's/.*"msg":"listening".*"addr":"\([^"]*\)".*/\1/p' "${work}/gateway.log" | head -n 1)"
	if [[ -n $addr ]] && curl -fsS -o /dev/null "http://${addr}/readyz"; then
		url="http://${addr}"
		break
	fi
	sleep 0.1
done
[[ -n $url ]] || die "the gateway was not ready within 60s: $(tail -n 20 "${work}/gateway.log")"
before="$(grep -c '"msg":"http request"' "${work}/gateway.log" || true)"

log "schemathesis ${SCHEMATHESIS_VERSION} against ${url} (seed ${seed}, ${max_examples} examples per operation)"
start=$SECONDS
status=0
(
	cd "$SCRIPT_DIR"
	ZL_CONTRACT_URL="$url" ZL_CONTRACT_API_KEY="$API_KEY" ZL_CONTRACT_CACHE_DIR="${work}/schemathesis" \
		HYPOTHESIS_STORAGE_DIRECTORY="${work}/hypothesis" \
		PYTHONPATH="$SCRIPT_DIR" SCHEMATHESIS_HOOKS=hooks \
		"${VENV}/bin/st" --config-file "${SCRIPT_DIR}/schemathesis.toml" run "${url}/openapi.yaml" \
		--seed "$seed" --max-examples "$max_examples" --no-color ${ZL_CONTRACT_ST_ARGS:-}
) || status=$?
elapsed=$((SECONDS - start))

after="$(grep -c '"msg":"http request"' "${work}/gateway.log" || true)"
requests=$((after - before))
server_errors="$(grep '"msg":"http request"' "${work}/gateway.log" | grep -c '"status":5' || true)"
log "${requests} requests in ${elapsed}s, ${server_errors} answered 5xx (seed ${seed})"
if ((server_errors > 0)); then
	grep '"msg":"http request"' "${work}/gateway.log" | grep '"status":5' | head -n 20 >&2
	status=1
fi
if ((requests < min_requests)); then
	log "error: fewer than ${min_requests} requests"
	status=1
fi
if ((status != 0)); then
	log "gateway warnings and errors:"
	grep -E '"level":"(WARN|ERROR)"' "${work}/gateway.log" | grep -v '"component":"rocketmq-client"' | tail -n 40 >&2 || true
fi
exit "$status"
