#!/usr/bin/env bash
# deploy/local/stack.sh — manage a local Apache RocketMQ 5.3.3 (namesrv + broker)
# and a Redis server for development and integration tests.
#
# The RocketMQ servers run from Maven Central jars (no docker, no binary
# distribution): `install` collects them once into a cache directory, `up`
# starts the three processes in the background and prints an env file.
#
# Usage: stack.sh install|up|down|stop-broker|start-broker|status|env
#        stack.sh mqadmin <args...>
#        stack.sh create-topic <topic> [queues=4]
#
# HA mode: `up --ha` starts RocketMQ in controller mode (name server with an
# embedded controller, groups broker-a and broker-b of two brokers each) and
# Redis with AOF under Sentinel (redis-0..2, sentinel-0..2). Then:
#        stack.sh master <group>         name of the group's master broker
#        stack.sh kill-master <group>    kill -9 it (prints its name)
#        stack.sh kill <process>         kill -9 one process (e.g. broker-a-1)
#        stack.sh start <process>        start it again (a broker rejoins as slave)
#        stack.sh redis-master           name of the Redis master
#        stack.sh kill-redis-master      kill -9 it (prints its name)
#
# Environment:
#   ZL_STACK_DIR      runtime dir (pids, logs, store, conf); default <repo>/.stack/default
#   ZL_CACHE_DIR      jar cache; default <repo>/.cache/rocketmq
#   ZL_NAMESRV_PORT   \
#   ZL_BROKER_PORT     > fixed ports; when unset `up` picks free ones (and
#   ZL_REDIS_PORT     /  persists them in $ZL_STACK_DIR/ports)
#   ZL_JAVA           java binary for the servers; default JDK 17
#   ZL_READY_TIMEOUT  readiness deadline in seconds; default 180 (a JVM starts slowly on a busy 2-core machine)
#   ZL_BROKER_DIRECT_MEMORY  a broker's -XX:MaxDirectMemorySize; default 2g (reserved only as used)
#   ZL_HA_HANDSHAKE_GRACE    seconds a restarted HA slave may hang in its HA handshake before it is restarted; default 60
#   ZL_BROKER_EXTRA_CONF     broker.conf lines (key=value, newline-separated) appended to every broker's config when it is written
#
# stdout carries only command results (the env file for `up`/`env`, the
# mqadmin output, the status lines); progress messages go to stderr.

set -euo pipefail

# ---------------------------------------------------------------------------
# Paths and constants
# ---------------------------------------------------------------------------

readonly RMQ_VERSION=5.3.3

# The repository root is two levels above this script (deploy/local/stack.sh).
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/../.." && pwd -P)"
readonly SCRIPT_DIR REPO_ROOT

# abspath PATH: make PATH absolute (relative to the caller's cwd) and drop
# trailing slashes; the directory need not exist.
abspath() {
	local p=$1
	[[ $p == /* ]] || p="${PWD}/${p}"
	while [[ $p == */ && $p != / ]]; do p=${p%/}; done
	printf '%s\n' "$p"
}

STACK_DIR="$(abspath "${ZL_STACK_DIR:-${REPO_ROOT}/.stack/default}")"
CACHE_DIR="$(abspath "${ZL_CACHE_DIR:-${REPO_ROOT}/.cache/rocketmq}")"
readonly STACK_DIR CACHE_DIR
readonly LIB_DIR="${CACHE_DIR}/lib"
readonly LIB_MARKER="${LIB_DIR}/.complete-${RMQ_VERSION}"
readonly READY_TIMEOUT="${ZL_READY_TIMEOUT:-180}"
readonly BROKER_DIRECT_MEMORY="${ZL_BROKER_DIRECT_MEMORY:-2g}"

# Layout of the stack dir.
readonly PORTS_FILE="${STACK_DIR}/ports"
readonly ENV_FILE="${STACK_DIR}/env"
readonly CONF_DIR="${STACK_DIR}/conf"
readonly LOG_DIR="${STACK_DIR}/logs"
readonly RUN_DIR="${STACK_DIR}/run"
readonly HOME_DIR="${STACK_DIR}/home"           # per-process user.home
readonly RMQ_HOME="${STACK_DIR}/rocketmq-home"  # ROCKETMQ_HOME (empty is fine)
readonly STORE_DIR="${STACK_DIR}/store"
readonly REDIS_DIR="${STACK_DIR}/redis"

readonly NAMESRV_MAIN=org.apache.rocketmq.namesrv.NamesrvStartup
readonly BROKER_MAIN=org.apache.rocketmq.broker.BrokerStartup
readonly MQADMIN_MAIN=org.apache.rocketmq.tools.command.MQAdminStartup

# Java for the servers: JDK 17 explicitly (the machine may have other JDKs
# first on PATH); fall back to JAVA_HOME / PATH when it is absent.
pick_java() {
	local c
	for c in "${ZL_JAVA:-}" /usr/lib/jvm/java-17-openjdk-amd64/bin/java \
		"${JAVA_HOME:+${JAVA_HOME}/bin/java}" "$(command -v java || true)"; do
		if [[ -n $c && -x $c ]]; then
			printf '%s\n' "$c"
			return 0
		fi
	done
	return 1
}

# JVM flags shared by all RocketMQ processes (see shared/ROCKETMQ.md): no
# 8 GB heaps, no AlwaysPreTouch, and the module opens RocketMQ needs on 17.
readonly JVM_OPENS=(
	--add-opens=java.base/java.lang=ALL-UNNAMED
	--add-opens=java.base/java.nio=ALL-UNNAMED
	--add-opens=java.base/sun.nio.ch=ALL-UNNAMED
	--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
	--add-opens=java.base/java.util=ALL-UNNAMED
)

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

log() { printf '[stack %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# now: seconds since the epoch (bash builtin, no fork).
now() { printf '%(%s)T\n' -1; }

# pid_alive PIDFILE PATTERN: true when the pid in PIDFILE is a live (not
# zombie) process whose command line contains PATTERN. The pattern guards
# against pid reuse after a crash. Zombies matter because PID 1 in a
# container may not reap orphans, and `kill -0` succeeds on a zombie.
pid_alive() {
	local pidfile=$1 pattern=$2
	[[ -s $pidfile ]] || return 1
	pid_matches "$(<"$pidfile")" "$pattern"
}

# pid_matches PID PATTERN: as pid_alive, for a pid.
pid_matches() {
	local pid=$1 pattern=$2 state
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/${pid}/stat ]] || return 1
	state="$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/${pid}/stat" 2>/dev/null)" || return 1
	[[ $state != Z && $state != X ]] || return 1
	tr '\0' ' ' 2>/dev/null <"/proc/${pid}/cmdline" | grep -qF -- "$pattern"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# redis_ping PORT: the Redis server answers PING with +PONG.
redis_ping() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "PING\r\n" >&3
		IFS= read -r line <&3 && [[ $line == +PONG* ]]' _ "$1" 2>/dev/null
}

# port_busy PORT: any TCP socket (listening or not) uses local port PORT.
# Uses ss when present, else a connect probe.
port_busy() {
	local p=$1
	if command -v ss >/dev/null 2>&1; then
		[[ -n "$(ss -Htan "( sport = :${p} )" 2>/dev/null)" ]]
	else
		port_open "$p"
	fi
}

# require_free WHAT PORT...: fail early (instead of a JVM stack trace after
# seconds) when something already listens on one of the ports, e.g. a
# fixed ZL_*_PORT that is taken.
require_free() {
	local what=$1 p
	shift
	for p in "$@"; do
		if command -v ss >/dev/null 2>&1; then
			[[ -z "$(ss -Hltn "( sport = :${p} )" 2>/dev/null)" ]] && continue
		else
			port_open "$p" || continue
		fi
		die "${what}: port ${p} is already in use"
	done
}

# wait_port_closed PORT SECONDS: wait until nothing accepts on PORT.
wait_port_closed() {
	local p=$1 deadline=$(($(now) + $2))
	while port_open "$p"; do
		(($(now) < deadline)) || return 1
		sleep 0.2
	done
}

# tail_logs FILE...: show the last 30 lines of each existing file on stderr.
tail_logs() {
	local f
	for f in "$@"; do
		[[ -f $f ]] || continue
		printf '%s\n' "----- last 30 lines of ${f} -----" >&2
		tail -n 30 "$f" >&2 || true
	done
}

# ---------------------------------------------------------------------------
# install: redis-server from apt, RocketMQ jars from Maven Central (cached)
# ---------------------------------------------------------------------------

# as_root CMD...: run CMD as root (directly, or with sudo -n when available).
as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "need root to run: $*"
	fi
}

install_redis() {
	command -v redis-server >/dev/null 2>&1 && return 0
	log "redis-server missing: installing it with apt-get"
	# Non-interactive and quiet; all apt output goes to stderr so that the
	# stdout of `up` stays the env file. DPkg::Lock::Timeout waits for a
	# concurrent apt/dpkg instead of failing.
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq \
		-o DPkg::Lock::Timeout=300 update >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq -y \
		-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 \
		install redis-server >&2
	command -v redis-server >/dev/null 2>&1 || die "redis-server still missing after apt-get install"
}

install_jars() {
	[[ -f $LIB_MARKER ]] && return 0
	command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once to collect the RocketMQ jars)"
	log "collecting RocketMQ ${RMQ_VERSION} jars into ${LIB_DIR} (first run only; may take minutes)"
	local java java_home
	java="$(pick_java)" || die "no java found"
	java_home="$(dirname "$(dirname "$(readlink -f "$java")")")"

	# A throw-away pom whose dependencies are the three server/tool
	# artifacts; copy-dependencies then copies them and their runtime
	# closure into lib/ (direct dependencies are copied too).
	local build="${CACHE_DIR}/build"
	mkdir -p "$build"
	cat >"${build}/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by deploy/local/stack.sh: only used to download jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.zeroloss</groupId>
  <artifactId>rocketmq-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.rocketmq</groupId>
      <artifactId>rocketmq-namesrv</artifactId>
      <version>${RMQ_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.rocketmq</groupId>
      <artifactId>rocketmq-broker</artifactId>
      <version>${RMQ_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.rocketmq</groupId>
      <artifactId>rocketmq-tools</artifactId>
      <version>${RMQ_VERSION}</version>
    </dependency>
  </dependencies>
</project>
EOF
	# Start from an empty lib/ so no stale jar of another version lingers.
	rm -rf "$LIB_DIR"
	mkdir -p "$LIB_DIR"
	(cd "$build" && JAVA_HOME="$java_home" mvn -B -q -f pom.xml -Dstyle.color=never \
		org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
		-DoutputDirectory="$LIB_DIR" -DincludeScope=runtime) >&2 ||
		die "mvn copy-dependencies failed"
	local a
	for a in rocketmq-namesrv rocketmq-broker rocketmq-tools; do
		[[ -f ${LIB_DIR}/${a}-${RMQ_VERSION}.jar ]] || die "${a}-${RMQ_VERSION}.jar missing from ${LIB_DIR}"
	done
	# The marker is written last: its presence means lib/ is complete.
	date -u +%FT%TZ >"$LIB_MARKER"
	log "jars ready: $(find "$LIB_DIR" -name '*.jar' | wc -l) files, $(du -sh "$LIB_DIR" | cut -f1)"
}

cmd_install() {
	install_redis
	# Several `up`s (different stack dirs) may install at once: serialise
	# on a lock inside the cache dir, and re-check the marker after it.
	mkdir -p "$CACHE_DIR"
	exec 8>"${CACHE_DIR}/.install.lock"
	flock 8
	install_jars
	exec 8>&-
}

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

NAMESRV_PORT=""
BROKER_PORT=""
REDIS_PORT=""

# load_ports: read $PORTS_FILE (if any); explicit ZL_*_PORT variables win.
load_ports() {
	local k v
	NAMESRV_PORT="" BROKER_PORT="" REDIS_PORT=""
	if [[ -f $PORTS_FILE ]]; then
		while IFS='=' read -r k v; do
			case $k in
			NAMESRV_PORT) NAMESRV_PORT=$v ;;
			BROKER_PORT) BROKER_PORT=$v ;;
			REDIS_PORT) REDIS_PORT=$v ;;
			esac
		done <"$PORTS_FILE"
	fi
	NAMESRV_PORT="${ZL_NAMESRV_PORT:-$NAMESRV_PORT}"
	BROKER_PORT="${ZL_BROKER_PORT:-$BROKER_PORT}"
	REDIS_PORT="${ZL_REDIS_PORT:-$REDIS_PORT}"
}

require_ports() {
	load_ports
	[[ -n $NAMESRV_PORT && -n $BROKER_PORT && -n $REDIS_PORT ]] ||
		die "no ports known for ${STACK_DIR} (run 'up' first)"
}

# Ports in use by other stacks on this machine: every `up` registers its
# stack dir in a registry next to the jar cache, so two concurrent `up`s
# for different dirs never pick the same ports even before either binds
# them. Entries whose ports file is gone (stack removed) are pruned.
readonly REGISTRY="${CACHE_DIR}/stacks"
declare -A TAKEN=()

# pick_port EXTRA_OFFSETS...: a random port P in [lo, hi] such that P+off is
# free and not reserved for every offset given (0 is always checked).
# The range sits below the kernel's ephemeral range, so outgoing
# connections never hold one of our ports.
pick_port() {
	local eph_lo lo=20000 hi p off ok tries=0
	eph_lo="$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
	hi=$((eph_lo - 10))
	((hi > lo + 1000)) || { lo=10000 hi=$((eph_lo - 10)); }
	while ((tries++ < 500)); do
		p=$((lo + 2 + (RANDOM * 32768 + RANDOM) % (hi - lo - 4)))
		ok=1
		for off in 0 "$@"; do
			if [[ -n ${TAKEN[$((p + off))]:-} ]] || port_busy $((p + off)); then
				ok=0
				break
			fi
		done
		if ((ok)); then
			for off in 0 "$@"; do TAKEN[$((p + off))]=1; done
			printf '%s\n' "$p"
			return 0
		fi
	done
	die "could not find a free port"
}

# reserve_other_stacks: mark the ports of every other live stack in TAKEN
# and list those stacks in KEPT (call with the registry lock held).
KEPT=()
reserve_other_stacks() {
	local dir k v
	KEPT=()
	[[ -f $REGISTRY ]] || return 0
	while IFS= read -r dir; do
		[[ -n $dir && $dir != "$STACK_DIR" && -f ${dir}/ports ]] || continue
		KEPT+=("$dir")
		while IFS='=' read -r k v; do
			[[ $v =~ ^[0-9]+$ ]] || continue
			TAKEN[$v]=1
			# A broker port P also means P-2 and P+1.
			if [[ $k == BROKER_PORT || $k == HA_broker-* ]]; then TAKEN[$((v - 2))]=1 TAKEN[$((v + 1))]=1; fi
		done <"${dir}/ports"
	done <"$REGISTRY"
}

# choose_ports: fill in missing ports and persist them in $PORTS_FILE.
choose_ports() {
	load_ports
	mkdir -p "$CACHE_DIR" "$STACK_DIR"
	exec 7>"${REGISTRY}.lock"
	flock 7
	reserve_other_stacks
	# The broker binds P (remoting), P-2 (fast/VIP channel), P+1 (HA).
	[[ -n $BROKER_PORT ]] || BROKER_PORT="$(pick_port -2 1)"
	TAKEN[$BROKER_PORT]=1 TAKEN[$((BROKER_PORT - 2))]=1 TAKEN[$((BROKER_PORT + 1))]=1
	[[ -n $NAMESRV_PORT ]] || NAMESRV_PORT="$(pick_port)"
	TAKEN[$NAMESRV_PORT]=1
	[[ -n $REDIS_PORT ]] || REDIS_PORT="$(pick_port)"
	printf 'NAMESRV_PORT=%s\nBROKER_PORT=%s\nREDIS_PORT=%s\n' \
		"$NAMESRV_PORT" "$BROKER_PORT" "$REDIS_PORT" >"${PORTS_FILE}.tmp"
	mv -f "${PORTS_FILE}.tmp" "$PORTS_FILE"
	KEPT+=("$STACK_DIR")
	printf '%s\n' "${KEPT[@]}" >"${REGISTRY}.tmp"
	mv -f "${REGISTRY}.tmp" "$REGISTRY"
	exec 7>&-
}

# ---------------------------------------------------------------------------
# Process management
# ---------------------------------------------------------------------------

# spawn NAME CMD...: run CMD detached from this script (new session via
# setsid, SIGHUP ignored via nohup), stdin from /dev/null, stdout+stderr to
# $LOG_DIR/NAME.out (previous run kept as NAME.out.prev). The wrapper shell
# writes its own pid and then execs CMD, so the pid file holds CMD's pid.
# fds 7-9 (our flock fds) are closed: a server inheriting the stack lock
# would block every later `up`/`down` forever. Not inheriting our stdout
# matters too: a caller reading our stdout (Go's exec.Cmd.Output) would
# otherwise wait for the servers to exit.
spawn() {
	local name=$1
	shift
	local out="${LOG_DIR}/${name}.out"
	[[ -f $out ]] && mv -f "$out" "${out}.prev"
	rm -f "${RUN_DIR}/${name}.pid"
	# shellcheck disable=SC2016 # expanded by the inner bash
	setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "${RUN_DIR}/${name}.pid" "$@" \
		</dev/null >"$out" 2>&1 7>&- 8>&- 9>&- &
	# Wait (briefly) for the pid file the wrapper writes.
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -s ${RUN_DIR}/${name}.pid ]] && return 0
		sleep 0.1
	done
	die "${name}: no pid file after spawn"
}

# Patterns identifying each process in /proc/PID/cmdline. Redis rewrites
# its title to "redis-server 127.0.0.1:PORT".
redis_pattern() { printf 'redis-server'; }
namesrv_pattern() { printf '%s' "-Duser.home=${HOME_DIR}/namesrv"; }
broker_pattern() { printf '%s' "-Duser.home=${HOME_DIR}/broker"; }

redis_running() { pid_alive "${RUN_DIR}/redis.pid" "$(redis_pattern)"; }
namesrv_running() { pid_alive "${RUN_DIR}/namesrv.pid" "$(namesrv_pattern)"; }
broker_running() { pid_alive "${RUN_DIR}/broker.pid" "$(broker_pattern)"; }

# stop_proc NAME PATTERN SIGNAL_TIMEOUT: SIGTERM, wait, then SIGKILL.
# Also catches a process of this stack whose pid file was lost, by looking
# for PATTERN (which contains the absolute stack dir) in /proc.
stop_proc() {
	local name=$1 pattern=$2 grace=$3 pids=() pid f
	if pid_alive "${RUN_DIR}/${name}.pid" "$pattern"; then
		pids+=("$(<"${RUN_DIR}/${name}.pid")")
	fi
	if [[ $pattern == -Duser.home=* ]]; then
		for f in /proc/[0-9]*/cmdline; do
			pid=${f#/proc/}
			pid=${pid%/cmdline}
			[[ " ${pids[*]} " == *" ${pid} "* ]] && continue
			if tr '\0' '\n' 2>/dev/null <"$f" | grep -qxF -- "$pattern"; then
				pids+=("$pid")
			fi
		done
	fi
	((${#pids[@]})) || {
		rm -f "${RUN_DIR}/${name}.pid"
		return 0
	}
	log "stopping ${name} (pid ${pids[*]})"
	kill -TERM "${pids[@]}" 2>/dev/null || true
	local deadline=$(($(now) + grace)) alive
	while :; do
		alive=()
		for pid in "${pids[@]}"; do
			if pid_matches "$pid" "$pattern"; then alive+=("$pid"); fi
		done
		((${#alive[@]})) || break
		if (($(now) >= deadline)); then
			log "${name} did not exit after ${grace}s: SIGKILL"
			kill -KILL "${alive[@]}" 2>/dev/null || true
			sleep 0.5
			break
		fi
		sleep 0.2
	done
	rm -f "${RUN_DIR}/${name}.pid"
}

# java_cmd NAME HEAP_MIN HEAP_MAX LOGBACK: print nothing; fills JAVA_CMD with
# the common JVM command line for a RocketMQ process.
JAVA_CMD=()
java_cmd() {
	local name=$1 xms=$2 xmx=$3 logback=$4 java direct=()
	java="$(pick_java)" || die "no java found"
	mkdir -p "${HOME_DIR}/${name}" "$RMQ_HOME"
	# A broker's direct memory (Netty buffers, POP revive reads of up to
	# maxMessageSize each) must not be capped by its small heap: at the
	# JVM's default cap a loaded HA broker ran out ("Cannot reserve …
	# bytes of direct buffer memory"), and its revive service stopped
	# bringing back un-acknowledged POP messages. RocketMQ's own
	# runbroker.sh sets 15g; it is reserved only as used.
	[[ $name == broker* ]] && direct=("-XX:MaxDirectMemorySize=${BROKER_DIRECT_MEMORY}")
	JAVA_CMD=(
		env "ROCKETMQ_HOME=${RMQ_HOME}"
		"$java" -server -XX:+UseG1GC "-Xms${xms}" "-Xmx${xmx}" "${direct[@]}"
		"${JVM_OPENS[@]}"
		"-Duser.home=${HOME_DIR}/${name}"
		"-Drmq.logback.configurationFile=${logback}"
		-cp "${LIB_DIR}/*"
	)
}

start_redis() {
	mkdir -p "$REDIS_DIR" "$LOG_DIR" "$RUN_DIR"
	require_free redis "$REDIS_PORT"
	log "starting redis-server on 127.0.0.1:${REDIS_PORT}"
	# Foreground (no daemonize) under spawn, like the JVMs; no persistence.
	spawn redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
		--save '' --appendonly no --daemonize no --dir "$REDIS_DIR" \
		--logfile '' --protected-mode yes
}

start_namesrv() {
	mkdir -p "$CONF_DIR" "$LOG_DIR" "$RUN_DIR"
	# NamesrvStartup -c reads its listen port (and bind address) from a
	# properties file.
	printf 'listenPort=%s\nbindAddress=127.0.0.1\n' "$NAMESRV_PORT" >"${CONF_DIR}/namesrv.conf"
	require_free namesrv "$NAMESRV_PORT"
	java_cmd namesrv 128m 256m rmq.namesrv.logback.xml
	log "starting namesrv on 127.0.0.1:${NAMESRV_PORT}"
	spawn namesrv "${JAVA_CMD[@]}" "$NAMESRV_MAIN" -c "${CONF_DIR}/namesrv.conf"
}

# The broker's messageDelayLevel for this stack (test-speed retry delays).
ZL_DELAY_LEVELS="1s 1s 1s 1s 2s 2s 2s 2s 3s 3s 3s 3s 4s 4s 4s 4s 5s 5s"

write_broker_conf() {
	mkdir -p "$CONF_DIR" "$STORE_DIR"
	# Test values from shared/ROCKETMQ.md: small mapped files, raised busy
	# timeouts (no "broker busy" on slow machines), fast transaction checks
	# (check-back ~2-3 s after a half message), auto-create on, timer on.
	# bindAddress keeps the remoting ports on loopback (the HA port P+1
	# still binds all interfaces).
	cat >"${CONF_DIR}/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
brokerRole=ASYNC_MASTER
flushDiskType=ASYNC_FLUSH
listenPort=${BROKER_PORT}
brokerIP1=127.0.0.1
brokerIP2=127.0.0.1
bindAddress=127.0.0.1
namesrvAddr=127.0.0.1:${NAMESRV_PORT}
storePathRootDir=${STORE_DIR}
autoCreateTopicEnable=false
autoCreateSubscriptionGroup=true
# POP: enablePopBufferMerge off (the default; apache/rocketmq#9318 reports
# skipped messages with it), stated so ZL_BROKER_EXTRA_CONF can turn it on
# to measure it.
enablePopBufferMerge=false
timerWheelEnable=true
# This single-broker stack (dev, tests, bench; not --ha) flushes the timer
# wheel every 10 s, not every second (the default): each flush compares the
# whole wheel (16.6 MB for timerMaxDelaySec's 3 days) byte by byte, 8% of a
# core on a 2-core machine whatever the load. The price, after a kill -9 of
# the broker: the timer messages sent in the last 10 s before it (not 1 s)
# may be put into the wheel again from the commit log and delivered twice when
# due (push subscriptions with dedup deliver them once; pull and native
# consumers see both copies). They are not lost: they are in the commit log
# (ASYNC_FLUSH here: as far as it was flushed, after an OS crash).
timerFlushIntervalMs=10000
mappedFileSizeCommitLog=67108864
maxHashSlotNum=10000
maxIndexNum=40000
waitTimeMillsInSendQueue=3000
osPageCacheBusyTimeOutMills=3000
transactionTimeOut=2000
transactionCheckInterval=1000
transactionCheckMax=5
transactionOpBatchInterval=500
# Short retry delays (levels 1-18) so delivery retries take seconds in tests;
# the gateway is told the same table (ZEROLOSS_DELAY_LEVELS) for Retry-After.
messageDelayLevel=${ZL_DELAY_LEVELS}
${ZL_BROKER_EXTRA_CONF:-}
EOF
}

start_broker_proc() {
	[[ -f ${CONF_DIR}/broker.conf ]] || write_broker_conf
	require_free broker "$BROKER_PORT" $((BROKER_PORT - 2)) $((BROKER_PORT + 1))
	java_cmd broker 256m 512m rmq.broker.logback.xml
	log "starting broker on 127.0.0.1:${BROKER_PORT} (also binds $((BROKER_PORT - 2)) and $((BROKER_PORT + 1)))"
	spawn broker "${JAVA_CMD[@]}" "$BROKER_MAIN" -c "${CONF_DIR}/broker.conf"
}

# MQADMIN_CMD: the admin tool's command line (short-lived JVM: serial GC
# and C1 only start faster).
MQADMIN_CMD=()
mqadmin_cmd() {
	local java
	java="$(pick_java)" || die "no java found"
	[[ -f $LIB_MARKER ]] || die "jars not installed (run 'install')"
	mkdir -p "${HOME_DIR}/tools" "$RMQ_HOME"
	MQADMIN_CMD=(
		env "ROCKETMQ_HOME=${RMQ_HOME}"
		"$java" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
		"${JVM_OPENS[@]}"
		"-Duser.home=${HOME_DIR}/tools"
		-Drmq.logback.configurationFile=rmq.tools.logback.xml
		-cp "${LIB_DIR}/*" "$MQADMIN_MAIN"
	)
}

# mqadmin_capture ARGS...: run the admin tool, print its combined output.
mqadmin_capture() {
	mqadmin_cmd
	"${MQADMIN_CMD[@]}" "$@" </dev/null 2>&1
}

# mqadmin_until DONE ARGS...: like mqadmin_capture, but stop the JVM as soon
# as its output contains DONE. mqadmin prints its result and then spends
# ~3 s in shutdown (NettyRemotingClient joins a service thread that polls
# every 3 s); the script's own calls (readiness polls, create-topic) skip
# that wait. Without DONE in the output, the tool runs to its own end.
mqadmin_until() {
	local done_pat=$1
	shift
	mqadmin_cmd
	local tmp pid deadline=$(($(now) + 60))
	tmp="$(mktemp "${TMPDIR:-/tmp}/zl-mqadmin.XXXXXX")"
	"${MQADMIN_CMD[@]}" "$@" </dev/null >"$tmp" 2>&1 7>&- 8>&- 9>&- &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -qF -- "$done_pat" "$tmp" || (($(now) >= deadline)); then
			sleep 0.1 # let the rest of the result line(s) be flushed
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || true
	cat "$tmp"
	rm -f "$tmp"
}

# wait_ready DEADLINE WHAT: WHAT is "namesrv" (port open) or "broker"
# (its "boot success" line, then clusterList shows the broker address;
# mqadmin exits 0 on failure, so its output is parsed).
wait_ready() {
	local deadline=$1 what=$2 out
	local addr="127.0.0.1:${BROKER_PORT}"
	fail() {
		log "TIMEOUT (${READY_TIMEOUT}s): $1"
		shift
		tail_logs "$@"
		exit 1
	}
	local ns_logs=("${LOG_DIR}/namesrv.out" "${HOME_DIR}/namesrv/logs/rocketmqlogs/namesrv.log")
	local br_logs=("${LOG_DIR}/broker.out" "${HOME_DIR}/broker/logs/rocketmqlogs/broker.log")
	if [[ $what == namesrv ]]; then
		until port_open "$NAMESRV_PORT"; do
			namesrv_running || { log "namesrv exited"; tail_logs "${ns_logs[@]}"; exit 1; }
			(($(now) < deadline)) || fail "namesrv port ${NAMESRV_PORT} not open" "${ns_logs[@]}"
			sleep 0.3
		done
		log "namesrv listening"
		return 0
	fi
	until grep -q 'boot success' "${LOG_DIR}/broker.out" 2>/dev/null; do
		broker_running || { log "broker exited"; tail_logs "${br_logs[@]}"; exit 1; }
		(($(now) < deadline)) || fail "broker did not print 'boot success'" "${br_logs[@]}"
		sleep 0.3
	done
	log "broker booted: $(grep -m1 'boot success' "${LOG_DIR}/broker.out")"
	while :; do
		# Make the broker register with namesrv now. Its own registration
		# right after boot silently does nothing when its async name-server
		# connection scan has not completed yet (the usual case: both happen
		# in the same ms), and the next periodic one comes 10 s later. An
		# updateBrokerConfig carrying brokerPermission (6 = read+write, the
		# default) makes the broker call registerBrokerAll immediately.
		mqadmin_until 'update broker config success' updateBrokerConfig \
			-b "$addr" -k brokerPermission -v 6 >/dev/null
		out="$(mqadmin_until "$addr" clusterList -n "127.0.0.1:${NAMESRV_PORT}")"
		[[ $out == *"$addr"* ]] && break
		(($(now) < deadline)) || {
			printf '%s\n' "----- clusterList output -----" "$out" >&2
			fail "broker ${addr} not in clusterList" "${ns_logs[@]}" "${br_logs[@]}"
		}
		sleep 1
	done
	log "route ok: broker ${addr} registered in namesrv 127.0.0.1:${NAMESRV_PORT}"
}

# stack_answering: all pids alive and all ports answering.
stack_answering() {
	redis_running && namesrv_running && broker_running &&
		redis_ping "$REDIS_PORT" && port_open "$NAMESRV_PORT" && port_open "$BROKER_PORT"
}

write_env() {
	cat >"${ENV_FILE}.tmp" <<EOF
ZEROLOSS_NAMESRV=127.0.0.1:${NAMESRV_PORT}
ZEROLOSS_REDIS_URL=redis://127.0.0.1:${REDIS_PORT}/0
ZEROLOSS_BROKER_ADDR=127.0.0.1:${BROKER_PORT}
ZL_STACK_DIR=${STACK_DIR}
EOF
	mv -f "${ENV_FILE}.tmp" "$ENV_FILE"
}

# lock_stack: serialise commands that change this stack on a sibling lock
# file ($ZL_STACK_DIR.lock): a second concurrent `up` waits, then finds the
# stack running and just prints the env.
lock_stack() {
	mkdir -p "$(dirname "$STACK_DIR")"
	exec 9>"${STACK_DIR}.lock"
	if ! flock -w 600 9; then die "timed out waiting for ${STACK_DIR}.lock"; fi
}

# ---------------------------------------------------------------------------
# HA mode (`up --ha`): RocketMQ controller mode, two replicated groups, and
# Redis (AOF) under Sentinel. Additive: the single-node commands above are
# unchanged; a stack dir whose mode file says "ha" routes the per-process
# commands here.
#
#   namesrv      name server with the controller embedded (DLedger, 1 peer)
#   broker-a-0/1 group broker-a: brokerId=-1, the controller elects the master
#   broker-b-0/1 group broker-b (topics span both masters)
#   redis-0/1/2  Redis with appendonly yes, appendfsync always; redis-1 and
#                redis-2 start as replicas of redis-0 (two replicas: the
#                gateways' WAIT 1 still succeeds with one node down)
#   sentinel-0/1/2 three sentinels, quorum 2, master name "zeroloss"
# ---------------------------------------------------------------------------

readonly MODE_FILE="${STACK_DIR}/mode"
readonly HA_GROUPS=(broker-a broker-b)
readonly HA_BROKERS=(broker-a-0 broker-a-1 broker-b-0 broker-b-1)
readonly HA_REDIS=(redis-0 redis-1 redis-2)
readonly HA_SENTINELS=(sentinel-0 sentinel-1 sentinel-2)
readonly HA_MASTER_NAME=zeroloss
# Election and failure detection timings (see deploy/local/README.md).
readonly HA_SENTINEL_DOWN_MS=2000
readonly HA_SENTINEL_FAILOVER_MS=10000
# appendfsync for the HA Redis: "always" (see deploy/local/README.md for
# what everysec would risk for each kind of record).
readonly HA_APPENDFSYNC="${ZL_REDIS_APPENDFSYNC:-always}"

is_ha() { [[ -f $MODE_FILE && "$(<"$MODE_FILE")" == ha ]]; }

# HP maps a process name (namesrv, controller, broker-a-0, redis-0,
# sentinel-0, ...) to its port; persisted in $PORTS_FILE as HA_<name>=port
# next to the NAMESRV_PORT/BROKER_PORT/REDIS_PORT keys of the single-node
# layout (so require_ports and the registry still work).
declare -A HP=()

load_ha_ports() {
	local k v
	HP=()
	[[ -f $PORTS_FILE ]] || return 0
	while IFS='=' read -r k v; do
		[[ $k == HA_* ]] && HP[${k#HA_}]=$v
	done <"$PORTS_FILE"
}

require_ha_ports() {
	is_ha || die "${STACK_DIR} is not an HA stack (run 'up --ha')"
	load_ha_ports
	[[ -n ${HP[namesrv]:-} ]] || die "no ports known for ${STACK_DIR} (run 'up --ha' first)"
}

choose_ports_ha() {
	load_ha_ports
	mkdir -p "$CACHE_DIR" "$STACK_DIR"
	exec 7>"${REGISTRY}.lock"
	flock 7
	reserve_other_stacks
	local n p
	for n in "${!HP[@]}"; do
		p=${HP[$n]}
		TAKEN[$p]=1
		if [[ $n == broker-* ]]; then TAKEN[$((p - 2))]=1 TAKEN[$((p + 1))]=1; fi
	done
	for n in "${HA_BROKERS[@]}"; do
		[[ -n ${HP[$n]:-} ]] && continue
		p="$(pick_port -2 1)"
		HP[$n]=$p
		TAKEN[$p]=1 TAKEN[$((p - 2))]=1 TAKEN[$((p + 1))]=1
	done
	for n in namesrv controller "${HA_REDIS[@]}" "${HA_SENTINELS[@]}"; do
		[[ -n ${HP[$n]:-} ]] && continue
		p="$(pick_port)"
		HP[$n]=$p
		TAKEN[$p]=1
	done
	{
		printf 'NAMESRV_PORT=%s\nBROKER_PORT=%s\nREDIS_PORT=%s\n' \
			"${HP[namesrv]}" "${HP[broker-a-0]}" "${HP[redis-0]}"
		for n in namesrv controller "${HA_BROKERS[@]}" "${HA_REDIS[@]}" "${HA_SENTINELS[@]}"; do
			printf 'HA_%s=%s\n' "$n" "${HP[$n]}"
		done
	} >"${PORTS_FILE}.tmp"
	mv -f "${PORTS_FILE}.tmp" "$PORTS_FILE"
	KEPT+=("$STACK_DIR")
	printf '%s\n' "${KEPT[@]}" >"${REGISTRY}.tmp"
	mv -f "${REGISTRY}.tmp" "$REGISTRY"
	exec 7>&-
}

# Process identity patterns: JVMs by their user.home, Redis by its port
# (both redis-server and redis-sentinel retitle to "... 127.0.0.1:PORT").
ha_pattern() {
	case $1 in
	namesrv | broker-*) printf '%s' "-Duser.home=${HOME_DIR}/$1" ;;
	*) printf '%s' "127.0.0.1:${HP[$1]}" ;;
	esac
}
ha_running() { pid_alive "${RUN_DIR}/$1.pid" "$(ha_pattern "$1")"; }

install_sentinel() {
	command -v redis-sentinel >/dev/null 2>&1 && return 0
	log "redis-sentinel missing: installing it with apt-get"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq \
		-o DPkg::Lock::Timeout=300 update >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq -y \
		-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 \
		install redis-sentinel >&2
	command -v redis-sentinel >/dev/null 2>&1 || die "redis-sentinel still missing after apt-get install"
}

# rcli PORT ARGS...: redis-cli against 127.0.0.1:PORT, 2 s timeout.
rcli() {
	local p=$1
	shift
	timeout 3 redis-cli -h 127.0.0.1 -p "$p" "$@" 2>/dev/null
}

write_ha_namesrv_conf() {
	mkdir -p "$CONF_DIR" "${STORE_DIR}/controller"
	# The controller runs inside the name server (enableControllerInNamesrv)
	# as a one-peer DLedger group. Failure detection: a kill -9 closes the
	# broker's channel and the controller elects at once; a hung broker is
	# noticed after controllerHeartBeatTimeoutMills (broker side, 3 s)
	# by a scan every scanNotActiveBrokerInterval (1 s).
	cat >"${CONF_DIR}/namesrv.conf" <<CONF
listenPort=${HP[namesrv]}
bindAddress=127.0.0.1
enableControllerInNamesrv=true
controllerDLegerGroup=zl-controller
controllerDLegerPeers=n0-127.0.0.1:${HP[controller]}
controllerDLegerSelfId=n0
controllerStorePath=${STORE_DIR}/controller
scanNotActiveBrokerInterval=1000
notifyBrokerRoleChanged=true
enableElectUncleanMaster=false
CONF
}

# write_ha_broker_conf NAME: NAME is <group>-<n>. Written once: a restarted
# broker keeps its config and store (it rejoins as a slave).
write_ha_broker_conf() {
	local name=$1 group=${1%-*} port=${HP[$1]}
	local conf="${CONF_DIR}/${name}.conf" store="${STORE_DIR}/${name}"
	[[ -f $conf ]] && return 0
	mkdir -p "$CONF_DIR" "$store"
	cat >"$conf" <<CONF
brokerClusterName=DefaultCluster
brokerName=${group}
# Controller mode: the controller assigns the id and elects the master.
brokerId=-1
brokerRole=SLAVE
enableControllerMode=true
controllerAddr=127.0.0.1:${HP[controller]}
namesrvAddr=127.0.0.1:${HP[namesrv]}
brokerIP1=127.0.0.1
brokerIP2=127.0.0.1
listenPort=${port}
haListenPort=$((port + 1))
storePathRootDir=${store}
storePathCommitLog=${store}/commitlog
storePathEpochFile=${store}/epochFileCheckpoint
storePathBrokerIdentity=${store}/brokerIdentity
# A send is acknowledged once every replica in the SyncStateSet has it
# (sync replication); the disk flush stays asynchronous.
allAckInSyncStateSet=true
flushDiskType=ASYNC_FLUSH
# Short timings: an election takes seconds.
controllerHeartBeatTimeoutMills=3000
brokerHeartbeatInterval=1000
syncBrokerMetadataPeriod=1000
checkSyncStateSetPeriod=1000
syncControllerMetadataPeriod=1000
# A slave more than this behind leaves the SyncStateSet (then writes stop
# waiting for it). 15 s, not less: on a loaded machine a shorter window
# makes the set flap, and a master killed while alone in it has no
# electable successor (enableElectUncleanMaster=false).
haMaxTimeSlaveNotCatchup=15000
autoCreateTopicEnable=false
autoCreateSubscriptionGroup=true
# POP: enablePopBufferMerge off (the default; apache/rocketmq#9318 reports
# skipped messages with it), stated so ZL_BROKER_EXTRA_CONF can turn it on
# to measure it.
enablePopBufferMerge=false
timerWheelEnable=true
mappedFileSizeCommitLog=67108864
maxHashSlotNum=10000
maxIndexNum=40000
waitTimeMillsInSendQueue=3000
osPageCacheBusyTimeOutMills=3000
# Check-backs every 1 s, at most 60 (then the half message is discarded):
# ~1 min. A new master can check a half message back only once the
# gateway's transaction producer has a channel to it, after the Go client's
# route refresh (up to 30 s); checks before that are wasted, and with 15 the
# ledger lost undecided transactions. Also covers a Redis failover (the
# gateway answers UNKNOWN meanwhile). The single-node stack keeps 5.
transactionTimeOut=2000
transactionCheckInterval=1000
transactionCheckMax=60
transactionOpBatchInterval=500
messageDelayLevel=${ZL_DELAY_LEVELS}
${ZL_BROKER_EXTRA_CONF:-}
CONF
}

start_ha_proc() {
	local name=$1 p=${HP[$1]}
	mkdir -p "$LOG_DIR" "$RUN_DIR" "$REDIS_DIR"
	case $name in
	namesrv)
		write_ha_namesrv_conf
		require_free namesrv "$p" "${HP[controller]}"
		java_cmd namesrv 128m 256m rmq.namesrv.logback.xml
		log "starting namesrv on 127.0.0.1:${p} (controller on ${HP[controller]})"
		spawn namesrv "${JAVA_CMD[@]}" "$NAMESRV_MAIN" -c "${CONF_DIR}/namesrv.conf"
		;;
	broker-*)
		write_ha_broker_conf "$name"
		require_free "$name" "$p" $((p - 2)) $((p + 1))
		java_cmd "$name" 128m 384m rmq.broker.logback.xml
		log "starting ${name} on 127.0.0.1:${p}"
		spawn "$name" "${JAVA_CMD[@]}" "$BROKER_MAIN" -c "${CONF_DIR}/${name}.conf"
		;;
	redis-*)
		require_free "$name" "$p"
		mkdir -p "${REDIS_DIR}/${name}"
		# A (re)started node joins as a replica of the current master, if
		# the sentinels know one that is not itself.
		local master="" args=()
		master="$(ha_redis_master_port || true)"
		if [[ -n $master && $master != "$p" ]]; then
			args=(--replicaof 127.0.0.1 "$master")
		elif [[ $name != redis-0 && -z $master ]]; then
			args=(--replicaof 127.0.0.1 "${HP[redis-0]}")
		fi
		log "starting ${name} on 127.0.0.1:${p} ${args[*]}"
		spawn "$name" redis-server --bind 127.0.0.1 --port "$p" \
			--dir "${REDIS_DIR}/${name}" --daemonize no --logfile '' \
			--appendonly yes --appendfsync "$HA_APPENDFSYNC" --save '' \
			--replica-announce-ip 127.0.0.1 "${args[@]}"
		;;
	sentinel-*)
		require_free "$name" "$p"
		local dir="${REDIS_DIR}/${name}" conf="${REDIS_DIR}/${name}/sentinel.conf"
		mkdir -p "$dir"
		# Sentinel rewrites its file (known replicas, sentinels, epoch):
		# written once, kept across restarts.
		[[ -f $conf ]] || cat >"$conf" <<CONF
bind 127.0.0.1
port ${p}
daemonize no
logfile ""
dir ${dir}
sentinel announce-ip 127.0.0.1
sentinel monitor ${HA_MASTER_NAME} 127.0.0.1 ${HP[redis-0]} 2
sentinel down-after-milliseconds ${HA_MASTER_NAME} ${HA_SENTINEL_DOWN_MS}
sentinel failover-timeout ${HA_MASTER_NAME} ${HA_SENTINEL_FAILOVER_MS}
sentinel parallel-syncs ${HA_MASTER_NAME} 1
CONF
		log "starting ${name} on 127.0.0.1:${p}"
		spawn "$name" redis-sentinel "$conf"
		;;
	*) die "unknown process ${name}" ;;
	esac
}

# ha_redis_master_port: the port of the Redis master according to the first
# sentinel that answers.
ha_redis_master_port() {
	local s out
	for s in "${HA_SENTINELS[@]}"; do
		out="$(rcli "${HP[$s]}" SENTINEL get-master-addr-by-name "$HA_MASTER_NAME")" || continue
		out="$(sed -n 2p <<<"$out")"
		[[ $out =~ ^[0-9]+$ ]] && { printf '%s\n' "$out"; return 0; }
	done
	return 1
}

# ha_name_of_port PORT: the process name listening on PORT.
ha_name_of_port() {
	local n
	for n in "${!HP[@]}"; do
		[[ ${HP[$n]} == "$1" ]] && { printf '%s\n' "$n"; return 0; }
	done
	return 1
}

# ha_cluster: "group bid addr" lines from clusterList.
ha_cluster() {
	# The whole table (no early stop: the rows come in no fixed order).
	mqadmin_capture clusterList -n "127.0.0.1:${HP[namesrv]}" |
		awk '$1 == "DefaultCluster" && $2 ~ /^broker-/ { print $2, $3, $4 }'
}

# ha_master GROUP: the name of GROUP's master broker process (from the
# name server's route: the broker registered with id 0).
ha_master() {
	local group=$1 g bid addr try
	# mqadmin may come back empty on a loaded machine: ask a few times.
	for try in 1 2 3 4 5; do
		while read -r g bid addr; do
			if [[ $g == "$group" && $bid == 0 ]]; then
				ha_name_of_port "${addr##*:}"
				return $?
			fi
		done < <(ha_cluster)
		sleep 1
	done
	return 1
}

# ha_handshake_stuck NAME: NAME's HA client last logged "change state to
# HANDSHAKE" and nothing after. On a loaded machine a restarted 5.3.3 slave
# was seen to stay there for good (the master accepted the connection and
# never answered the handshake), so its group never got its second replica
# back: ha_wait_brokers restarts such a broker.
ha_handshake_stuck() {
	local last
	last="$(grep -h 'AutoSwitchHAClient' "${HOME_DIR}/$1/logs/rocketmqlogs/store.log" 2>/dev/null | tail -1)"
	[[ $last == *'change state to HANDSHAKE'* ]]
}

# ha_boot_wait NAME DEADLINE: wait for NAME's "boot success".
ha_boot_wait() {
	local n=$1 deadline=$2
	until grep -q 'boot success' "${LOG_DIR}/${n}.out" 2>/dev/null; do
		ha_running "$n" || { log "${n} exited"; tail_logs "${LOG_DIR}/${n}.out" "${HOME_DIR}/${n}/logs/rocketmqlogs/broker.log"; exit 1; }
		(($(now) < deadline)) || { log "TIMEOUT: ${n} did not boot"; tail_logs "${LOG_DIR}/${n}.out" "${HOME_DIR}/${n}/logs/rocketmqlogs/broker.log"; exit 1; }
		sleep 0.5
	done
}

# HA_HANDSHAKE_GRACE is how long a slave may sit in its HA handshake before
# ha_wait_brokers restarts it (at most HA_HANDSHAKE_RESTARTS times).
readonly HA_HANDSHAKE_GRACE="${ZL_HA_HANDSHAKE_GRACE:-60}" HA_HANDSHAKE_RESTARTS=3

# ha_wait_brokers DEADLINE [NAME...]: every named broker (default all) is
# registered with the name server, and every group has a master whose
# SyncStateSet holds both replicas.
ha_wait_brokers() {
	local deadline=$1 n g bid addr out ok
	shift
	local want=("$@")
	((${#want[@]})) || want=("${HA_BROKERS[@]}")
	for n in "${want[@]}"; do
		ha_boot_wait "$n" "$deadline"
	done
	# A group counts as full once its SyncStateSet was seen with both
	# replicas (it can flap under load; the latest master is what counts).
	local -A full=() since=() restarts=()
	for n in "${want[@]}"; do
		since[$n]=$(now) restarts[$n]=0
	done
	while :; do
		out="$(ha_cluster)"
		ok=1
		for n in "${want[@]}"; do
			if ! grep -q " 127.0.0.1:${HP[$n]}\$" <<<"$out"; then
				ok=0
				# Nudge the broker to register now (see wait_ready).
				mqadmin_until 'update broker config success' updateBrokerConfig \
					-b "127.0.0.1:${HP[$n]}" -k brokerPermission -v 6 >/dev/null
			fi
		done
		for g in "${HA_GROUPS[@]}"; do
			grep -q "^${g} 0 " <<<"$out" || ok=0
		done
		if ((ok)); then
			for g in "${HA_GROUPS[@]}"; do
				[[ -n ${full[$g]:-} ]] && continue
				# "#SyncStateSetNums" counts the replicas in the SyncStateSet.
				out="$(mqadmin_until 'SyncStateSetNums' getSyncStateSet \
					-a "127.0.0.1:${HP[controller]}" -b "$g")"
				if [[ $out =~ SyncStateSetNums[[:space:]]+([0-9]+) ]] && ((BASH_REMATCH[1] >= 2)); then
					full[$g]=1
				else
					ok=0
				fi
			done
		fi
		((ok)) && break
		(($(now) < deadline)) || {
			printf '%s\n' "----- clusterList -----" "$(ha_cluster)" "----- syncStateSet -----" "$out" >&2
			die "TIMEOUT: brokers not registered with a master and a full SyncStateSet"
		}
		for n in "${want[@]}"; do
			[[ -n ${full[${n%-*}]:-} ]] && continue
			(($(now) - since[$n] >= HA_HANDSHAKE_GRACE && restarts[$n] < HA_HANDSHAKE_RESTARTS)) || continue
			ha_handshake_stuck "$n" || continue
			log "${n}: HA handshake with its master stuck for ${HA_HANDSHAKE_GRACE}s: restarting it"
			kill_ha "$n"
			start_ha_proc "$n"
			ha_boot_wait "$n" "$deadline"
			since[$n]=$(now) restarts[$n]=$((restarts[$n] + 1))
		done
		sleep 1
	done
	log "brokers ready: $(ha_cluster | tr '\n' ';')"
}

# ha_wait_redis DEADLINE: the sentinels agree on a master with a replica.
ha_wait_redis() {
	local deadline=$1 out
	until out="$(rcli "${HP[sentinel-0]}" SENTINEL ckquorum "$HA_MASTER_NAME")" &&
		[[ $out == OK*"3 usable"* ]] &&
		[[ "$(rcli "${HP[sentinel-0]}" SENTINEL master "$HA_MASTER_NAME" | awk 'p { print; exit } $0 == "num-slaves" { p = 1 }')" -ge 1 ]]; do
		(($(now) < deadline)) || { log "TIMEOUT: sentinels not ready: ${out}"; tail_logs "${LOG_DIR}"/sentinel-0.out "${LOG_DIR}"/redis-0.out; exit 1; }
		sleep 0.5
	done
	log "redis ready: master 127.0.0.1:$(ha_redis_master_port), ${out}"
}

write_ha_env() {
	cat >"${ENV_FILE}.tmp" <<CONF
ZEROLOSS_NAMESRV=127.0.0.1:${HP[namesrv]}
ZEROLOSS_REDIS_ADDRS=127.0.0.1:${HP[sentinel-0]},127.0.0.1:${HP[sentinel-1]},127.0.0.1:${HP[sentinel-2]}
ZEROLOSS_REDIS_MASTER_NAME=${HA_MASTER_NAME}
ZEROLOSS_REDIS_WAIT_REPLICAS=1
ZL_CONTROLLER=127.0.0.1:${HP[controller]}
ZL_HA=1
ZL_STACK_DIR=${STACK_DIR}
CONF
	mv -f "${ENV_FILE}.tmp" "$ENV_FILE"
}

ha_all() { printf '%s\n' "${HA_REDIS[@]}" "${HA_SENTINELS[@]}" namesrv "${HA_BROKERS[@]}"; }

ha_answering() {
	local n
	for n in $(ha_all); do ha_running "$n" || return 1; done
}

cmd_up_ha() {
	cmd_install
	install_sentinel
	lock_stack
	if [[ -f $STACK_DIR/ports ]] && ! is_ha; then
		die "${STACK_DIR} holds a single-node stack: 'down' it first or use another ZL_STACK_DIR"
	fi
	mkdir -p "$STACK_DIR"
	echo ha >"$MODE_FILE"
	load_ha_ports
	if [[ -f $ENV_FILE && -n ${HP[namesrv]:-} ]] && ha_answering; then
		log "HA stack already running in ${STACK_DIR}"
		cat "$ENV_FILE"
		return 0
	fi
	rm -f "$ENV_FILE"
	choose_ports_ha
	mkdir -p "$LOG_DIR" "$RUN_DIR" "$HOME_DIR" "$RMQ_HOME"
	local deadline=$(($(now) + READY_TIMEOUT * 4)) n
	for n in "${HA_REDIS[@]}" "${HA_SENTINELS[@]}"; do
		ha_running "$n" || start_ha_proc "$n"
	done
	if ! ha_running namesrv; then
		start_ha_proc namesrv
		until port_open "${HP[namesrv]}" && port_open "${HP[controller]}"; do
			ha_running namesrv || { log "namesrv exited"; tail_logs "${LOG_DIR}/namesrv.out"; exit 1; }
			(($(now) < deadline)) || { log "TIMEOUT: namesrv/controller ports"; tail_logs "${LOG_DIR}/namesrv.out" "${HOME_DIR}/namesrv/logs/rocketmqlogs/namesrv.log"; exit 1; }
			sleep 0.3
		done
	fi
	for n in "${HA_BROKERS[@]}"; do
		ha_running "$n" || start_ha_proc "$n"
	done
	ha_wait_redis "$deadline"
	ha_wait_brokers "$deadline"
	write_ha_env
	log "HA stack ready in ${STACK_DIR}"
	cat "$ENV_FILE"
}

cmd_down_ha() {
	local n
	load_ha_ports
	for n in "${HA_BROKERS[@]}"; do stop_proc "$n" "$(ha_pattern "$n")" 20; done
	stop_proc namesrv "$(ha_pattern namesrv)" 20
	for n in "${HA_SENTINELS[@]}" "${HA_REDIS[@]}"; do
		[[ -n ${HP[$n]:-} ]] && stop_proc "$n" "$(ha_pattern "$n")" 20
	done
}

# kill_ha NAME: SIGKILL, then wait until it is gone and its ports closed.
kill_ha() {
	local name=$1 pid p
	[[ -n ${HP[$name]:-} ]] || die "unknown process ${name}"
	if ha_running "$name"; then
		pid="$(<"${RUN_DIR}/${name}.pid")"
		log "killing ${name} (pid ${pid}) with SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		local deadline=$(($(now) + 20))
		while ha_running "$name"; do
			(($(now) < deadline)) || die "${name} pid ${pid} still alive"
			sleep 0.1
		done
	else
		log "${name} not running"
	fi
	p=${HP[$name]}
	local ports=("$p")
	[[ $name == broker-* ]] && ports+=($((p - 2)) $((p + 1)))
	for p in "${ports[@]}"; do
		wait_port_closed "$p" 20 || die "port ${p} still open after killing ${name}"
	done
	rm -f "${RUN_DIR}/${name}.pid"
}

cmd_kill() {
	(($# == 1)) || die "usage: kill <process>"
	lock_stack
	require_ha_ports
	kill_ha "$1"
}

cmd_kill_master() {
	(($# == 1)) || die "usage: kill-master <group>"
	lock_stack
	require_ha_ports
	local name
	name="$(ha_master "$1")" || die "no master registered for $1"
	kill_ha "$name"
	printf '%s\n' "$name"
}

cmd_master() {
	(($# == 1)) || die "usage: master <group>"
	require_ha_ports
	ha_master "$1" || die "no master registered for $1"
}

cmd_redis_master() {
	require_ha_ports
	local p
	p="$(ha_redis_master_port)" || die "no sentinel answers"
	ha_name_of_port "$p"
}

cmd_kill_redis_master() {
	lock_stack
	require_ha_ports
	local p name
	p="$(ha_redis_master_port)" || die "no sentinel answers"
	name="$(ha_name_of_port "$p")" || die "unknown redis port ${p}"
	kill_ha "$name"
	printf '%s\n' "$name"
}

# cmd_start NAME: start one process of an HA stack again and wait until it
# serves (a broker: registered with the name server; Redis: answers PING).
cmd_start() {
	(($# == 1)) || die "usage: start <process>"
	lock_stack
	require_ha_ports
	# A broker's catch-up into the SyncStateSet is slow on a loaded machine.
	local name=$1 deadline=$(($(now) + READY_TIMEOUT * 4))
	[[ -n ${HP[$name]:-} ]] || die "unknown process ${name}"
	ha_running "$name" || start_ha_proc "$name"
	# Waiting needs no lock: a kill of another process may go on meanwhile.
	exec 9>&-
	case $name in
	broker-*) ha_wait_brokers "$deadline" "$name" ;;
	*)
		until redis_ping "${HP[$name]}"; do
			# Not ha_running: Redis retitles itself "127.0.0.1:PORT" only once
			# started, which a loaded machine may delay past the first check.
			pid_alive "${RUN_DIR}/${name}.pid" redis- || { tail_logs "${LOG_DIR}/${name}.out"; die "${name} exited"; }
			(($(now) < deadline)) || die "TIMEOUT: ${name} not answering"
			sleep 0.2
		done
		;;
	esac
	log "${name} running"
}

cmd_status_ha() {
	local rc=0 n
	load_ha_ports
	for n in $(ha_all); do
		if ha_running "$n"; then
			printf '%-11s running  pid %s  127.0.0.1:%s\n' "$n" "$(<"${RUN_DIR}/${n}.pid")" "${HP[$n]}"
		else
			printf '%-11s stopped  127.0.0.1:%s\n' "$n" "${HP[$n]}"
			rc=1
		fi
	done
	return "$rc"
}

# cmd_create_topic_ha TOPIC QUEUES: create the topic on every broker of both
# groups (masters and slaves), so that a slave promoted before its periodic
# metadata sync (every 10 s) already knows the topic.
cmd_create_topic_ha() {
	local topic=$1 queues=$2 n out
	load_ha_ports
	for n in "${HA_BROKERS[@]}"; do
		ha_running "$n" || continue
		out="$(mqadmin_until 'TopicConfig [' updateTopic -b "127.0.0.1:${HP[$n]}" \
			-t "$topic" -r "$queues" -w "$queues")"
		[[ $out == *"create topic to 127.0.0.1:${HP[$n]} success"* ]] || {
			printf '%s\n' "$out" >&2
			die "create-topic ${topic} on ${n} failed"
		}
	done
	log "topic ${topic} created on every running broker (${queues} queues per group)"
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

cmd_up() {
	cmd_install
	lock_stack
	load_ports
	if [[ -f $ENV_FILE && -n $REDIS_PORT ]] && stack_answering; then
		log "stack already running in ${STACK_DIR}"
		cat "$ENV_FILE"
		return 0
	fi
	rm -f "$ENV_FILE"
	choose_ports
	mkdir -p "$LOG_DIR" "$RUN_DIR" "$HOME_DIR" "$RMQ_HOME"
	local use
	use="$(df --output=pcent "$STACK_DIR" 2>/dev/null | tail -n1 | tr -dc 0-9)" || true
	if [[ -n $use ]] && ((use >= 88)); then
		log "WARNING: disk ${use}% full; the broker refuses writes above 90%"
	fi
	local deadline=$(($(now) + READY_TIMEOUT))

	# Redis is independent: (re)start it only if it is not running.
	if ! redis_running; then
		stop_proc redis "$(redis_pattern)" 5
		start_redis
	fi
	# RocketMQ: the broker must register with a live namesrv. If namesrv is
	# down, restart both (in order); if only the broker is down, start it.
	# The broker is started only once namesrv listens, so that it can
	# register (see wait_ready) as soon as it has booted.
	if ! namesrv_running; then
		stop_proc broker "$(broker_pattern)" 20
		write_broker_conf
		start_namesrv
		wait_ready "$deadline" namesrv
		start_broker_proc
	elif ! broker_running; then
		write_broker_conf
		wait_ready "$deadline" namesrv
		start_broker_proc
	else
		wait_ready "$deadline" namesrv
	fi
	wait_ready "$deadline" broker
	until redis_ping "$REDIS_PORT"; do
		redis_running || { log "redis exited"; tail_logs "${LOG_DIR}/redis.out"; exit 1; }
		(($(now) < deadline)) || { log "TIMEOUT: redis not answering"; tail_logs "${LOG_DIR}/redis.out"; exit 1; }
		sleep 0.2
	done
	write_env
	log "stack ready in ${STACK_DIR}"
	cat "$ENV_FILE"
}

cmd_down() {
	lock_stack
	if is_ha; then cmd_down_ha; fi
	stop_proc broker "$(broker_pattern)" 20
	stop_proc namesrv "$(namesrv_pattern)" 20
	stop_proc redis "$(redis_pattern)" 20
	rm -rf "$STACK_DIR"
	log "stack ${STACK_DIR} down"
}

cmd_stop_broker() {
	lock_stack
	require_ports
	if broker_running; then
		local pid
		pid="$(<"${RUN_DIR}/broker.pid")"
		log "killing broker (pid ${pid}) with SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		# Wait until the process is gone (or a zombie) ...
		local deadline=$(($(now) + 20))
		while broker_running; do
			(($(now) < deadline)) || die "broker pid ${pid} still alive"
			sleep 0.1
		done
	else
		log "broker not running"
	fi
	# ... and its ports are closed.
	local p
	for p in "$BROKER_PORT" $((BROKER_PORT - 2)) $((BROKER_PORT + 1)); do
		wait_port_closed "$p" 20 || die "port ${p} still open after killing the broker"
	done
	rm -f "${RUN_DIR}/broker.pid"
	log "broker stopped"
}

cmd_start_broker() {
	lock_stack
	require_ports
	namesrv_running || die "namesrv not running in ${STACK_DIR} (run 'up')"
	local deadline=$(($(now) + READY_TIMEOUT))
	if broker_running; then
		log "broker already running"
	else
		start_broker_proc
	fi
	wait_ready "$deadline" broker
}

cmd_status() {
	local rc=0
	load_ports
	if redis_running; then
		printf 'redis    running  pid %s  127.0.0.1:%s\n' "$(<"${RUN_DIR}/redis.pid")" "$REDIS_PORT"
	else
		printf 'redis    stopped\n'
		rc=1
	fi
	if namesrv_running; then
		printf 'namesrv  running  pid %s  127.0.0.1:%s\n' "$(<"${RUN_DIR}/namesrv.pid")" "$NAMESRV_PORT"
	else
		printf 'namesrv  stopped\n'
		rc=1
	fi
	if broker_running; then
		printf 'broker   running  pid %s  127.0.0.1:%s\n' "$(<"${RUN_DIR}/broker.pid")" "$BROKER_PORT"
	else
		printf 'broker   stopped\n'
		rc=1
	fi
	return "$rc"
}

cmd_env() {
	[[ -f $ENV_FILE ]] || die "stack ${STACK_DIR} is not up"
	if is_ha; then
		load_ha_ports
		ha_answering || die "HA stack ${STACK_DIR} is not fully running (see 'status')"
		cat "$ENV_FILE"
		return 0
	fi
	if ! { redis_running && namesrv_running && broker_running; }; then
		die "stack ${STACK_DIR} is not fully running (see 'status')"
	fi
	cat "$ENV_FILE"
}

cmd_mqadmin() {
	load_ports
	# Default name server for commands given without -n.
	if [[ -n $NAMESRV_PORT ]]; then export NAMESRV_ADDR="127.0.0.1:${NAMESRV_PORT}"; fi
	mqadmin_capture "$@"
}

cmd_create_topic() {
	(($# >= 1 && $# <= 2)) || die "usage: create-topic <topic> [queues=4]"
	local topic=$1 queues=${2:-4} out
	[[ $queues =~ ^[1-9][0-9]*$ ]] || die "queues must be a positive integer"
	require_ports
	if is_ha; then
		cmd_create_topic_ha "$topic" "$queues"
		return 0
	fi
	# The TopicConfig dump is printed after the per-broker success lines.
	out="$(mqadmin_until 'TopicConfig [' updateTopic -n "127.0.0.1:${NAMESRV_PORT}" \
		-c DefaultCluster -t "$topic" -r "$queues" -w "$queues")"
	# Success prints "create topic to <addr> success." per master broker.
	if [[ $out == *"create topic to 127.0.0.1:${BROKER_PORT} success"* ]]; then
		log "topic ${topic} created (${queues} queues)"
		return 0
	fi
	printf '%s\n' "$out" >&2
	die "create-topic ${topic} failed"
}

usage() {
	sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

main() {
	(($#)) || usage
	local cmd=$1
	shift
	case $cmd in
	install) cmd_install ;;
	up)
		if [[ ${1:-} == --ha ]]; then cmd_up_ha; else cmd_up; fi
		;;
	down) cmd_down ;;
	stop-broker) if is_ha; then cmd_kill "$@"; else cmd_stop_broker; fi ;;
	start-broker) if is_ha; then cmd_start "$@"; else cmd_start_broker; fi ;;
	status) if is_ha; then cmd_status_ha; else cmd_status; fi ;;
	env) cmd_env ;;
	mqadmin) cmd_mqadmin "$@" ;;
	create-topic) cmd_create_topic "$@" ;;
	kill) cmd_kill "$@" ;;
	start) cmd_start "$@" ;;
	master) cmd_master "$@" ;;
	kill-master) cmd_kill_master "$@" ;;
	redis-master) cmd_redis_master ;;
	kill-redis-master) cmd_kill_redis_master ;;
	-h | --help | help) usage ;;
	*)
		log "unknown command: ${cmd}"
		usage
		;;
	esac
}

# main and exit on one line: bash reads scripts incrementally, so this keeps
# a running invocation from reading past main if the file is edited meanwhile.
main "$@"; exit "$?"
