#!/usr/bin/env bash
# deploy/validate.sh — offline checks of deploy/, which cannot run here (no
# Docker engine, no Kubernetes cluster). Tools come from PyPI into a
# git-ignored venv (.cache/deploy-venv), once:
#   - kubernetes-validate: the Kubernetes manifests against the API schemas
#     it ships (no download at check time), in strict mode (unknown fields
#     are errors);
#   - check-jsonschema: docker-compose.yml against the Compose file schema
#     shipped inside the docker-compose 1.29.2 wheel (compose_spec.json);
#   - and a diff of the controller-mode keys between deploy/rocketmq/ and
#     what deploy/local/stack.sh up --ha runs in the tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${ROOT}/.cache/deploy-venv"
K8S_VERSION=1.30.0
log() { printf '[validate] %s\n' "$*" >&2; }

if [[ ! -f ${VENV}/.complete ]]; then
	log "installing kubernetes-validate, check-jsonschema (PyPI) into ${VENV}"
	python3 -m venv "$VENV"
	"${VENV}/bin/pip" install -q kubernetes-validate==1.37.0 check-jsonschema==0.39.0 >&2
	"${VENV}/bin/pip" download -q --no-deps -d "${VENV}/wheels" docker-compose==1.29.2 >&2
	touch "${VENV}/.complete"
fi
SCHEMA="${VENV}/compose_spec.json"
if [[ ! -s $SCHEMA ]]; then
	"${VENV}/bin/python" - "${VENV}/wheels" "$SCHEMA" <<'PY'
import glob, sys, zipfile
whl = glob.glob(sys.argv[1] + "/docker_compose-1.29.2-*.whl")[0]
with zipfile.ZipFile(whl) as z:
    open(sys.argv[2], "wb").write(z.read("compose/config/compose_spec.json"))
PY
fi

log "kubernetes manifests (Kubernetes ${K8S_VERSION}, strict)"
"${VENV}/bin/kubernetes-validate" --strict -k "$K8S_VERSION" "${ROOT}"/deploy/k8s/*.yaml

log "docker-compose.yml against the Compose schema"
"${VENV}/bin/check-jsonschema" --schemafile "$SCHEMA" "${ROOT}/deploy/docker-compose.yml"

log "controller-mode broker keys: deploy/rocketmq vs deploy/local/stack.sh up --ha"
keys=(brokerClusterName brokerId brokerRole enableControllerMode allAckInSyncStateSet flushDiskType
	controllerHeartBeatTimeoutMills brokerHeartbeatInterval syncBrokerMetadataPeriod checkSyncStateSetPeriod
	syncControllerMetadataPeriod haMaxTimeSlaveNotCatchup autoCreateTopicEnable autoCreateSubscriptionGroup timerWheelEnable)
ns_keys=(enableControllerInNamesrv scanNotActiveBrokerInterval notifyBrokerRoleChanged enableElectUncleanMaster)
value() { sed -n "s/^$1=//p" "$2" | head -n1; }
script="${ROOT}/deploy/local/stack.sh"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
# The broker and name server heredocs of the HA section, as written.
sed -n '/^write_ha_namesrv_conf()/,/^}/p; /^write_ha_broker_conf()/,/^}/p' "$script" >"$tmp"
fail=0
for f in "${ROOT}"/deploy/rocketmq/broker-*.conf; do
	for k in "${keys[@]}"; do
		want="$(value "$k" "$tmp")"
		got="$(value "$k" "$f")"
		if [[ -z $want || $got != "$want" ]]; then
			log "$(basename "$f"): ${k}=${got} but the tests run ${k}=${want}"
			fail=1
		fi
	done
done
for f in "${ROOT}"/deploy/rocketmq/namesrv-*.conf; do
	for k in "${ns_keys[@]}"; do
		want="$(value "$k" "$tmp")"
		got="$(value "$k" "$f")"
		if [[ -z $want || $got != "$want" ]]; then
			log "$(basename "$f"): ${k}=${got} but the tests run ${k}=${want}"
			fail=1
		fi
	done
done
((fail == 0)) || exit 1
log "deploy/ ok"
