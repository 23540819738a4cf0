#!/usr/bin/env bash
# Starts, checks and stops the real infrastructure the product runs against — Redis, Apache Kafka (KRaft,
# one node) and FerretDB (the MongoDB wire protocol) on PostgreSQL — as local processes bound to 127.0.0.1.
#
#   services.sh start   [redis|kafka|postgres|ferretdb ...]  install (cached), start, wait until each answers
#   services.sh stop    [...]                        stop cleanly, keep the data
#   services.sh restart [...]                        stop then start, keeping the data
#   services.sh kill    [...]                        SIGKILL, as a crash would (data kept; start again later)
#   services.sh status  [...]                        one line per service; exit 3 if one is not running
#   services.sh env                                  `export NAME=value` lines for the running services
#   services.sh clean                                stop everything and delete the run directory
#
# Without names a command applies to all four. `kube` (a local Kubernetes control plane: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and KWOK) runs only when named: services.sh start kube.
# See README.md beside this file.

# shellcheck disable=SC2317 # the per-service functions are called by name ("${service}_start")
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

run_dir="${INTEGR8S_RUN_DIR:-/tmp/integr8scode-services}"
cache="${INTEGR8S_CACHE:-$HOME/.cache/integr8scode}"
redis_port="${INTEGR8S_REDIS_PORT:-16379}"
kafka_port="${INTEGR8S_KAFKA_PORT:-19092}"
kafka_controller_port="${INTEGR8S_KAFKA_CONTROLLER_PORT:-19093}"
mongo_port="${INTEGR8S_MONGO_PORT:-27018}"
postgres_port="${INTEGR8S_POSTGRES_PORT:-15432}"
mongo_db="${INTEGR8S_MONGO_DB:-integr8scode}"
kafka_versions="${INTEGR8S_KAFKA_VERSION:-4.4.0 4.3.1 4.2.2}"
kafka_heap="${INTEGR8S_KAFKA_HEAP:-512m}"
kafka_partitions="${INTEGR8S_KAFKA_PARTITIONS:-3}"
ferretdb_version="${INTEGR8S_FERRETDB_VERSION:-v1.24.2}"
ready_timeout="${INTEGR8S_SERVICES_TIMEOUT:-90}"
topics_file="${INTEGR8S_KAFKA_TOPICS:-$repo/kafka/topics.yaml}"

# Absolute paths: the services run from other working directories, and stop finds them by these paths.
mkdir -p "$run_dir" "$cache"
run_dir="$(cd "$run_dir" && pwd)"
cache="$(cd "$cache" && pwd)"

all_services=(redis kafka postgres ferretdb)
env_file="$run_dir/services.env"
# Started only when named, never by a plain `start`: the test suite as a whole does not need them.
extra_services=(kube)

say() { printf '%s\n' "$*" >&2; }
die() {
  say "services.sh: $*"
  exit 1
}
now_ms() { date +%s%3N; }

# ---------------------------------------------------------------------------------------------- processes

pid_file() { echo "$run_dir/$1/pid"; }

# The pid recorded for a service, if that process is alive and is still the one we started (its command line
# names this run directory), so a recycled pid is never mistaken for ours.
live_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  pid="$(<"$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$run_dir/$1/" || return 1
  echo "$pid"
}

# Processes of a service that name its folder in the run directory on their command line: the one we started
# plus any left behind by an earlier run whose pid file was lost. Only the service's own programs count, so a
# `tail -f` on its log is never taken for it.
service_pids() {
  local marker="$run_dir/$1/" file pid program
  # The marker is passed through a file so that grep's own command line does not match it.
  # shellcheck disable=SC2013 # /proc paths have no spaces
  for file in $(grep -alsF -f <(printf '%s\n' "$marker") /proc/[0-9]*/cmdline); do
    pid="${file#/proc/}"
    pid="${pid%/cmdline}"
    program="$(tr '\0' '\n' <"$file" 2>/dev/null | head -n 1)"
    program="${program%% *}"
    case "${program##*/}:$1" in
    redis-server:redis | java:kafka | postgres:postgres | ferretdb:ferretdb) echo "$pid" ;;
    etcd:kube/etcd | kube-apiserver:kube/apiserver | kube-controller-manager:kube/controller-manager) echo "$pid" ;;
    kube-scheduler:kube/scheduler | kwok:kube/kwok) echo "$pid" ;;
    etcd:kube | kube-apiserver:kube | kube-controller-manager:kube | kube-scheduler:kube | kwok:kube) echo "$pid" ;;
    esac
  done
  return 0
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2; }

# Fails when another program already listens on a port this service needs.
check_port_free() {
  local service="$1" port="$2" owner
  port_open "$port" || return 0
  owner="$(port_owner "$port")"
  [[ -n "$owner" ]] && owner="pid $owner ($(tr '\0' ' ' <"/proc/$owner/cmdline" 2>/dev/null | cut -c1-120))"
  say "services.sh: $service: 127.0.0.1:$port is already in use${owner:+ by $owner}"
  say "  choose another port with the INTEGR8S_*_PORT variables (see scripts/services/README.md)"
  return 1
}

# Runs a command detached from this shell's session (so a terminal's Ctrl-C or the end of a test job does not
# take the service down with it) and records its pid. The service gets none of this shell's other open files:
# an inherited lock or pipe would keep the run-directory lock held, or a caller's `| tee` waiting, for as long
# as the service lives.
launch() {
  local service="$1" log="$2"
  shift 2
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd="${fd##*/}"
      ((fd > 2)) && eval "exec $fd>&-"
    done
    exec setsid "$@" >>"$log" 2>&1 </dev/null
  ) &
  echo $! >"$(pid_file "$service")"
}

show_log() {
  local file
  for file in "$@"; do
    [[ -s "$file" ]] || continue
    say "---- last lines of $file"
    tail -n 40 "$file" >&2
  done
}

# Stops a service: SIGTERM, then SIGKILL after a grace period, then any leftover process of the same service.
stop_service() {
  local service="$1" grace="$2" pid deadline leftover
  pid="$(live_pid "$service" || true)"
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$service: still running after ${grace}s, killing pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  for leftover in $(service_pids "$service"); do
    say "$service: killing leftover pid $leftover"
    kill -KILL "$leftover" 2>/dev/null || true
  done
  rm -f "$(pid_file "$service")"
  [[ -n "$pid" ]] && say "$service: stopped"
  return 0
}

kill_service() {
  local service="$1" pid
  for pid in $(service_pids "$service"); do kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$(pid_file "$service")"
  say "$service: killed"
}

# Waits until check succeeds; fails early if the process died, and on failure prints the service's log.
wait_ready() {
  local service="$1" check="$2" started deadline
  shift 2
  started="$(now_ms)"
  deadline=$((started + ready_timeout * 1000))
  until "$check" 2>/dev/null; do
    if ! live_pid "$service" >/dev/null; then
      say "services.sh: $service exited during start"
      show_log "$@"
      return 1
    fi
    if (($(now_ms) > deadline)); then
      say "services.sh: $service did not answer within ${ready_timeout}s"
      show_log "$@"
      return 1
    fi
    sleep 0.05
  done
}

need_apt() {
  local packages=("$@")
  command -v apt-get >/dev/null 2>&1 || die "please install ${packages[*]} (no apt-get on this machine)"
  local sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  say "installing ${packages[*]} (apt)…"
  "${sudo_cmd[@]}" apt-get update -qq
  # Debian starts a packaged server as soon as it is installed; policy-rc.d stops that, because these
  # services only ever run under this script, on their own ports.
  local policy=/usr/sbin/policy-rc.d added_policy=false
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
    "${sudo_cmd[@]}" chmod 755 "$policy"
    added_policy=true
  fi
  local status=0
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null || status=$?
  $added_policy && "${sudo_cmd[@]}" rm -f "$policy"
  ((status == 0)) || die "apt-get install ${packages[*]} failed"
}

need_node_modules() {
  local module
  for module in kafkajs mongodb yaml tsx; do
    if [[ ! -d "$repo/node_modules/$module" ]]; then
      say "node_modules incomplete; running scripts/setup.sh"
      bash "$repo/scripts/setup.sh"
      return
    fi
  done
}

probe() { (cd "$repo" && node --import tsx "$here/probe.ts" "$@"); }

# ------------------------------------------------------------------------------------------------- redis

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" == PONG ]]; }

redis_start() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    need_apt redis-server
  fi
  local dir="$run_dir/redis"
  mkdir -p "$dir/data"
  # The append-only file keeps sessions, idempotency records and counters across `restart redis`, as a
  # production Redis with persistence would.
  cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port $redis_port
protected-mode yes
daemonize no
proc-title-template "{title} {listen-addr} {config-file}"
dir $dir/data
logfile $dir/redis.log
save ""
appendonly yes
appendfsync everysec
maxmemory 512mb
maxmemory-policy noeviction
EOF
  launch redis "$dir/redis.log" redis-server "$dir/redis.conf"
  wait_ready redis redis_ping "$dir/redis.log"
}

redis_stop() { stop_service redis 10; }

# ------------------------------------------------------------------------------------------------- kafka

kafka_libs=""

# The broker's jars from Maven Central, copied once into the cache: the first version in the candidate list
# that resolves.
kafka_install() {
  local version dir
  for version in $kafka_versions; do
    dir="$cache/kafka/$version"
    if [[ -f "$dir/libs/.complete" ]]; then
      kafka_libs="$dir/libs"
      return
    fi
  done
  command -v java >/dev/null 2>&1 || need_apt openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || need_apt maven
  local mvn_args=(-B -q "-Dmaven.repo.local=$cache/m2" -f "$here/kafka/pom.xml")
  for version in $kafka_versions; do
    say "kafka: resolving org.apache.kafka:kafka_2.13:$version on Maven Central…"
    if mvn "${mvn_args[@]}" dependency:get -Dtransitive=false \
      "-Dartifact=org.apache.kafka:kafka_2.13:$version" \
      >"$cache/kafka-resolve.log" 2>&1; then
      dir="$cache/kafka/$version"
      rm -rf "$dir/libs.tmp"
      mvn "${mvn_args[@]}" "-Dkafka.version=$version" dependency:copy-dependencies -DincludeScope=runtime \
        "-DoutputDirectory=$dir/libs.tmp" >>"$cache/kafka-resolve.log" 2>&1 ||
        {
          show_log "$cache/kafka-resolve.log"
          die "kafka: copying the jars of $version failed"
        }
      rm -rf "$dir/libs"
      mv "$dir/libs.tmp" "$dir/libs"
      touch "$dir/libs/.complete"
      kafka_libs="$dir/libs"
      return
    fi
  done
  show_log "$cache/kafka-resolve.log"
  die "kafka: none of $kafka_versions resolved on Maven Central"
}

# The JVM command line; every Kafka process names its run folder in it (kafka.logs.dir), which is how stop
# finds leftovers.
kafka_java=()
kafka_set_java() {
  local dir="$run_dir/kafka"
  kafka_java=(java -Xms128m "-Xmx$kafka_heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Xlog:cds*=error" "-Dkafka.logs.dir=$dir/logs" "-Dlog4j2.configurationFile=$dir/log4j2.properties"
    -cp "$kafka_libs/*")
}

# A class-data archive of the broker's classes roughly halves the JVM's start (about 6 s to 3 s here). The
# first broker that runs without one records it when it exits; stop moves it into the cache for later starts.
kafka_cds_archive() { echo "${kafka_libs%/libs}/kafka-cds.jsa"; }
kafka_cds_args() {
  local archive
  archive="$(kafka_cds_archive)"
  if [[ -s "$archive" ]]; then
    echo "-XX:SharedArchiveFile=$archive"
  else
    rm -f "$run_dir/kafka/cds.jsa"
    echo "-XX:ArchiveClassesAtExit=$run_dir/kafka/cds.jsa"
  fi
}
kafka_keep_cds_archive() {
  local recorded="$run_dir/kafka/cds.jsa" archive
  [[ -s "$recorded" ]] || return 0
  kafka_install >/dev/null 2>&1 || return 0
  archive="$(kafka_cds_archive)"
  if [[ ! -s "$archive" ]]; then
    cp "$recorded" "$archive.tmp.$$" && mv "$archive.tmp.$$" "$archive"
  fi
  rm -f "$recorded"
}

kafka_start() {
  need_node_modules
  check_port_free kafka "$kafka_port" || return 1
  check_port_free kafka "$kafka_controller_port" || return 1
  kafka_install
  kafka_set_java
  local dir="$run_dir/kafka"
  mkdir -p "$dir/data" "$dir/logs"
  # One node is both broker and controller. Internal topics have one replica; topic creation is explicit
  # (topics.yaml), as on the production cluster; the initial rebalance delay is off so consumer groups in
  # tests form at once. The controller's no-op metadata records come every 5 s instead of every 0.5 s:
  # with one node nothing waits on them, and at the default they cost about 5 % of a core when idle.
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$kafka_controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$kafka_controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=$kafka_partitions
default.replication.factor=1
auto.create.topics.enable=false
message.max.bytes=8388608
replica.fetch.max.bytes=8388608
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
metadata.max.idle.interval.ms=5000
EOF
  cat >"$dir/log4j2.properties" <<'EOF'
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    echo "$cluster_id" >"$dir/cluster-id"
    "${kafka_java[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
      >"$dir/logs/format.log" 2>&1 || {
      show_log "$dir/logs/format.log"
      die "kafka: formatting the storage failed"
    }
  fi
  launch kafka "$dir/logs/stdout.log" "${kafka_java[@]}" "$(kafka_cds_args)" \
    kafka.Kafka "$dir/server.properties"
  wait_ready kafka kafka_port_open "$dir/logs/stdout.log" "$dir/logs/server.log" || return 1
  # The broker listens before it has joined the quorum; the probe waits for real metadata answers, then
  # creates the topics.
  if ! probe kafka "127.0.0.1:$kafka_port" "$topics_file" "$((ready_timeout * 1000))" "$kafka_partitions" \
    >"$dir/logs/probe.log" 2>&1; then
    say "services.sh: kafka did not become ready"
    show_log "$dir/logs/probe.log" "$dir/logs/server.log"
    return 1
  fi
  say "kafka: $(tail -n 1 "$dir/logs/probe.log")"
}

kafka_port_open() { port_open "$kafka_port"; }

kafka_stop() {
  stop_service kafka 40
  kafka_keep_cds_archive
}

# ---------------------------------------------------------------------------------------------- postgres

# FerretDB keeps its data in PostgreSQL rather than in its SQLite backend: SQLite lets one writer in at a
# time and the others sleep in its busy handler, which stalled concurrent inserts for up to a second.

postgres_bin=""

postgres_install() {
  postgres_bin="$(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/postgres' 2>/dev/null | sort -V | tail -n 1)"
  if [[ -z "$postgres_bin" ]]; then
    need_apt postgresql
    postgres_bin="$(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/postgres' | sort -V | tail -n 1)"
  fi
  [[ -n "$postgres_bin" ]] || die "postgres: no server binary under /usr/lib/postgresql after installing"
}

# PostgreSQL refuses to run as root; as root the server runs as the packaged `postgres` account instead.
as_postgres=()
[[ $(id -u) -eq 0 ]] && as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)
postgres_as() { "${as_postgres[@]}" "$@"; }

postgres_sql() {
  postgres_as "${postgres_bin%/*}/psql" -X -q -h 127.0.0.1 -p "$postgres_port" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -tA -c "$1"
}

postgres_ready() { postgres_as "${postgres_bin%/*}/pg_isready" -q -h 127.0.0.1 -p "$postgres_port"; }

postgres_start() {
  check_port_free postgres "$postgres_port" || return 1
  postgres_install
  local dir="$run_dir/postgres"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    rm -rf "$dir/data"
    postgres_as "${postgres_bin%/*}/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
      show_log "$dir/initdb.log"
      die "postgres: initdb failed"
    }
  fi
  : >>"$dir/postgres.log"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir/postgres.log"
  # Sockets in the run folder: the packaged /var/run/postgresql may not exist or be writable.
  launch postgres "$dir/postgres.log" "${as_postgres[@]}" "$postgres_bin" -D "$dir/data" -p "$postgres_port" \
    -c listen_addresses=127.0.0.1 -c "unix_socket_directories=$dir" -c shared_buffers=128MB \
    -c max_connections=200 -c logging_collector=off
  wait_ready postgres postgres_ready "$dir/postgres.log" || return 1
  [[ "$(postgres_sql "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'")" == 1 ]] ||
    postgres_sql "CREATE DATABASE ferretdb" || die "postgres: could not create the ferretdb database"
}

# SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for FerretDB's pooled connections to close.
postgres_stop() {
  local pid
  if pid="$(live_pid postgres)"; then kill -INT "$pid" 2>/dev/null || true; fi
  stop_service postgres 20
}

# ---------------------------------------------------------------------------------------------- ferretdb

ferretdb_bin=""

# FerretDB from the Go module proxy, built once into the cache. `go install …@version` alone gives a binary
# that refuses to start (it embeds its version from build/version/version.txt, which the module does not
# ship), so the module is built from a copy with that file written.
ferretdb_install() {
  local dir="$cache/ferretdb/$ferretdb_version"
  ferretdb_bin="$dir/ferretdb"
  if [[ -x "$ferretdb_bin" ]] &&
    "$ferretdb_bin" --version 2>/dev/null | grep -qx "version: $ferretdb_version"; then
    return
  fi
  command -v go >/dev/null 2>&1 || die "ferretdb: Go is needed to build FerretDB (not found)"
  say "ferretdb: building github.com/FerretDB/FerretDB $ferretdb_version (first run only, a few minutes)…"
  mkdir -p "$dir"
  local source build log="$dir/build.log"
  source="$(cd /tmp && go mod download -json "github.com/FerretDB/FerretDB@$ferretdb_version" 2>"$log" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  [[ -n "$source" && -d "$source" ]] || {
    show_log "$log"
    die "ferretdb: could not download the module"
  }
  build="$(mktemp -d)"
  cp -r "$source/." "$build/"
  chmod -R u+w "$build"
  echo "$ferretdb_version" >"$build/build/version/version.txt"
  if ! (cd "$build" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go build -trimpath -o "$ferretdb_bin.tmp" ./cmd/ferretdb) >>"$log" 2>&1; then
    rm -rf "$build"
    show_log "$log"
    die "ferretdb: build failed"
  fi
  rm -rf "$build"
  mv "$ferretdb_bin.tmp" "$ferretdb_bin"
}

ferretdb_start() {
  need_node_modules
  check_port_free ferretdb "$mongo_port" || return 1
  live_pid postgres >/dev/null || die "ferretdb: its storage is PostgreSQL; start postgres first"
  ferretdb_install
  local dir="$run_dir/ferretdb"
  mkdir -p "$dir/state"
  launch ferretdb "$dir/ferretdb.log" env DO_NOT_TRACK=1 "$ferretdb_bin" \
    --handler=postgresql "--postgresql-url=postgres://postgres@127.0.0.1:$postgres_port/ferretdb" \
    "--listen-addr=127.0.0.1:$mongo_port" "--state-dir=$dir/state" \
    --debug-addr=- --telemetry=disable --log-level=WARN
  wait_ready ferretdb mongo_port_open "$dir/ferretdb.log" || return 1
  local ping_log="$dir/ping.log"
  if ! probe mongo "mongodb://127.0.0.1:$mongo_port/$mongo_db" "$((ready_timeout * 1000))" \
    >"$ping_log" 2>&1; then
    say "services.sh: ferretdb did not answer ping"
    show_log "$ping_log" "$dir/ferretdb.log"
    return 1
  fi
}

mongo_port_open() { port_open "$mongo_port"; }

ferretdb_stop() { stop_service ferretdb 10; }

# -------------------------------------------------------------------------------------------------- kube

# The local Kubernetes control plane lives in its own file: kube/kube.sh.
# shellcheck source=SCRIPTDIR/kube/kube.sh
. "$here/kube/kube.sh"

# ------------------------------------------------------------------------------------------------ common

service_url() {
  case "$1" in
  redis) echo "INTEGR8S_REDIS_URL=redis://127.0.0.1:$redis_port" ;;
  kafka) echo "INTEGR8S_KAFKA_BROKERS=127.0.0.1:$kafka_port" ;;
  postgres) echo "INTEGR8S_POSTGRES_URL=postgres://postgres@127.0.0.1:$postgres_port/ferretdb" ;;
  ferretdb) echo "INTEGR8S_MONGO_URL=mongodb://127.0.0.1:$mongo_port/$mongo_db" ;;
  kube) kube_env ;;
  esac
}

service_port() {
  case "$1" in
  redis) echo "$redis_port" ;;
  kafka) echo "$kafka_port" ;;
  postgres) echo "$postgres_port" ;;
  ferretdb) echo "$mongo_port" ;;
  kube) echo "$kube_port" ;;
  esac
}

# A service answers when its port accepts connections; kube also needs every one of its processes alive.
service_answers() {
  if [[ "$1" == kube ]]; then kube_answers; else port_open "$(service_port "$1")"; fi
}

# The env file lists the services that are running now, so a test suite that reads it skips what is not there.
write_env_file() {
  local service lines=()
  for service in "${all_services[@]}" "${extra_services[@]}"; do
    live_pid "$service" >/dev/null && lines+=("$(service_url "$service")")
  done
  if ((${#lines[@]})); then
    printf '%s\n' "${lines[@]}" >"$env_file.tmp"
    mv "$env_file.tmp" "$env_file"
  else
    rm -f "$env_file"
  fi
}

start_one() {
  local service="$1" started pid
  started="$(now_ms)"
  if pid="$(live_pid "$service")"; then
    if service_answers "$service"; then
      say "$service: already running (pid $pid)"
      return 0
    fi
    say "$service: pid $pid does not answer; restarting it"
    "${service}_stop"
  fi
  # A process of ours that lost its pid file would hold the port; clear it before starting anew.
  stop_service "$service" 5 >/dev/null 2>&1
  mkdir -p "$run_dir/$service"
  if ! "${service}_start"; then
    stop_service "$service" 5
    return 1
  fi
  say "$service: ready on 127.0.0.1:$(service_port "$service") in $(($(now_ms) - started)) ms" \
    "(pid $(live_pid "$service"))"
}

status_one() {
  local service="$1" pid port state
  port="$(service_port "$service")"
  if pid="$(live_pid "$service")"; then
    if service_answers "$service"; then state="running"; else state="not answering"; fi
    printf '%-9s %-14s pid %-8s 127.0.0.1:%s\n' "$service" "$state" "$pid" "$port"
    [[ "$service" == kube ]] && kube_status_details
    [[ "$state" == running ]]
  else
    printf '%-9s %-14s %-12s 127.0.0.1:%s\n' "$service" "stopped" "" "$port"
    [[ "$service" == kube ]] && kube_status_details
    return 1
  fi
}

usage() {
  sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed -e '/^$/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local command="${1:-}"
  [[ -n "$command" ]] || usage
  shift
  local services=("$@") service
  ((${#services[@]})) || services=("${all_services[@]}")
  for service in "${services[@]}"; do
    case "$service" in
    redis | kafka | postgres | ferretdb | kube) ;;
    mongo | mongodb) die "the MongoDB-wire server is called ferretdb here" ;;
    *) die "unknown service '$service' (redis, kafka, postgres, ferretdb, kube)" ;;
    esac
  done
  # A first `start kube` builds the control plane for many minutes: that happens before the lock is taken,
  # so other jobs' start and stop of the other services are not held up by it.
  if [[ "$command" == start || "$command" == restart ]] && [[ " ${services[*]} " == *" kube "* ]]; then
    kube_install
  fi

  mkdir -p "$run_dir"
  # One command at a time per run directory: parallel test jobs may all call `start`.
  exec 9>"$run_dir/.lock"
  flock -w 600 9 || die "another services.sh holds $run_dir/.lock"

  local status=0
  case "$command" in
  start)
    # Each start runs in a subshell so that a failed install stops only that service, not the others.
    for service in "${services[@]}"; do (start_one "$service") || status=1; done
    write_env_file
    ;;
  stop)
    for service in "${services[@]}"; do "${service}_stop"; done
    write_env_file
    ;;
  restart)
    for service in "${services[@]}"; do
      "${service}_stop"
      (start_one "$service") || status=1
    done
    write_env_file
    ;;
  kill)
    for service in "${services[@]}"; do kill_service "$service"; done
    write_env_file
    ;;
  status)
    for service in "${services[@]}"; do status_one "$service" || status=3; done
    ;;
  env)
    [[ -f "$env_file" ]] || die "no service is running (start them with: services.sh start)"
    sed 's/^/export /' "$env_file"
    ;;
  clean)
    for service in "${all_services[@]}" "${extra_services[@]}"; do "${service}_stop"; done
    rm -rf "$run_dir"
    say "removed $run_dir"
    ;;
  *) usage ;;
  esac
  return "$status"
}

# On one line so that bash has read all of it before running: editing the file while it runs is harmless.
main "$@"; exit $?
