/**
 * The runner: a POSIX sh script shipped in each execution's ConfigMap as `runner.sh` and run as the
 * executor container's command. It runs the script under `env -i` (so the script sees only the
 * runtime's environment), stops it at the wall-clock limit, measures wall time, CPU time and peak
 * memory from the container's cgroup (v2, with v1 fallbacks), keeps a head and a tail of each output
 * stream with exact byte counts, writes them to the container log framed as runner-log.ts describes,
 * and leaves its RunnerReport (contract.ts) in the termination message. It exits with the script's
 * exit status.
 *
 * Kept as a string (not a .sh file) so every bundle carries it. It needs a POSIX sh and env, mkfifo,
 * tee, head, tail, wc, cat, base64 and sleep (coreutils or busybox), and uses setsid when present.
 * `\${` below is a shell `${`.
 */

/** Environment variables the runner reads; each has a safe default for the executor container. */
export const RUNNER_ENV = {
  cgroupDir: 'RUNNER_CGROUP_DIR',
  terminationLog: 'RUNNER_TERMINATION_LOG',
  workDir: 'RUNNER_WORK_DIR',
  stdinFile: 'RUNNER_STDIN_FILE',
  timeoutSeconds: 'RUNNER_TIMEOUT_SECONDS',
  outputLimit: 'RUNNER_OUTPUT_LIMIT',
  cpuSeconds: 'RUNNER_CPU_SECONDS',
  maxProcesses: 'RUNNER_MAX_PROCESSES',
} as const;

/**
 * Processes of the runner itself (shell, output keepers, timer) that run under the script's uid and so
 * count against its RLIMIT_NPROC: the pod spec adds them to MAX_PROCESSES.
 */
export const RUNNER_OWN_PROCESSES = 24;

export const RUNNER_SCRIPT = `# integr8scode runner, v1 (shared/sandbox/kubernetes/runner-script.ts; log framing: runner-log.ts).
# usage: sh runner.sh NAME=VALUE... COMMAND ARG...   (handed to env -i: the script's whole environment)
set -u
# Nothing but frames may reach the container log: the shell's own messages ("Killed", …) go nowhere.
exec 2>/dev/null
cg=\${RUNNER_CGROUP_DIR:-/sys/fs/cgroup}
report_file=\${RUNNER_TERMINATION_LOG:-/dev/termination-log}
work=\${RUNNER_WORK_DIR:-/integr8scode/work}
stdin_file=\${RUNNER_STDIN_FILE:-/integr8scode/code/stdin}
timeout=\${RUNNER_TIMEOUT_SECONDS:-30}
cap=\${RUNNER_OUTPUT_LIMIT:-1048576}
cpu_seconds=\${RUNNER_CPU_SECONDS:-}
max_processes=\${RUNNER_MAX_PROCESSES:-}
head_cap=$((cap / 2))
tail_cap=$((cap - head_cap))
frame='@@integr8scode-runner v1'

# Milliseconds: date's nanoseconds where it has them (GNU, recent busybox), else /proc/uptime (10 ms).
now_ms() {
  t=$(date +%s%N)
  case $t in
  *[!0-9]* | '') ;;
  *) if [ \${#t} -ge 16 ]; then
    echo $((t / 1000000))
    return
  fi ;;
  esac
  read -r up _ </proc/uptime
  frac=\${up#*.}
  echo $((\${up%.*} * 1000 + 1$frac * 10 - 1000))
}

# The value of key $2 in a "key value" file $1 (cpu.stat, memory.events), or nothing.
stat_value() {
  [ -r "$1" ] || return 0
  while read -r k v; do
    if [ "$k" = "$2" ]; then
      echo "$v"
      return 0
    fi
  done <"$1"
}

first_line() {
  for f in "$@"; do
    if [ -r "$f" ]; then
      read -r v <"$f" && echo "$v"
      return 0
    fi
  done
}

# CPU time of the container's cgroup in microseconds: v2 cpu.stat, else v1 cpuacct (nanoseconds).
cpu_usec() {
  v=$(stat_value "$cg/cpu.stat" usage_usec)
  if [ -n "$v" ]; then
    echo "$v"
    return
  fi
  ns=$(first_line "$cg/cpuacct/cpuacct.usage" "$cg/cpu,cpuacct/cpuacct.usage" "$cg/cpuacct.usage")
  [ -n "$ns" ] && echo $((ns / 1000))
}

peak_bytes() {
  first_line "$cg/memory.peak" "$cg/memory/memory.max_usage_in_bytes" "$cg/memory.max_usage_in_bytes"
}

oom_kills() {
  v=$(stat_value "$cg/memory.events" oom_kill)
  [ -n "$v" ] || v=$(stat_value "$cg/memory/memory.oom_control" oom_kill)
  [ -n "$v" ] || v=$(stat_value "$cg/memory.oom_control" oom_kill)
  echo "$v"
}

or_null() {
  if [ -n "$1" ]; then echo "$1"; else echo null; fi
}

# The script could not be run at all: a report that says why, an error frame, and exit 125.
give_up() {
  printf '{"v":1,"exit_code":-1,"signal":null,"timed_out":false,"wall_ms":0,"cpu_ms":null,"peak_memory_bytes":null,"stdout_bytes":0,"stderr_bytes":0,"stdout_truncated":false,"stderr_truncated":false,"runner_error":"%s"}' "$1" >"$report_file"
  echo "$frame error $1"
  echo "$frame end"
  exit 125
}

[ $# -gt 0 ] || give_up "no command to run"
mkdir -p "$work"
for s in stdout stderr; do
  rm -f "$work/$s".*
  mkfifo "$work/$s.pipe" "$work/$s.to-head" "$work/$s.to-tail" "$work/$s.to-count" ||
    give_up "cannot make pipes in $work"
done
rm -f "$work/timed-out"

# Per stream, tee copies the script's output to a head keeper (which then drains the rest), a tail
# keeper and a byte counter; each leaves a .done file when its input ends. Memory stays bounded.
for s in stdout stderr; do
  { head -c "$head_cap" >"$work/$s.head"; cat >/dev/null; : >"$work/$s.head.done"; } <"$work/$s.to-head" &
  { tail -c "$tail_cap" >"$work/$s.tail"; : >"$work/$s.tail.done"; } <"$work/$s.to-tail" &
  { wc -c >"$work/$s.count"; : >"$work/$s.count.done"; } <"$work/$s.to-count" &
  tee "$work/$s.to-tail" "$work/$s.to-count" <"$work/$s.pipe" >"$work/$s.to-head" &
done

[ -r "$stdin_file" ] || stdin_file=/dev/null
cpu_before=$(cpu_usec)
started=$(now_ms)
# The script leads a session of its own where setsid exists, so its whole process group can be killed.
(
  [ -z "$cpu_seconds" ] || ulimit -t "$cpu_seconds"
  # RLIMIT_NPROC: -u in bash and busybox, -p in dash (whose complaint about -u must not reach the script).
  [ -z "$max_processes" ] || ulimit -u "$max_processes" 2>/dev/null || ulimit -p "$max_processes"
  if command -v setsid >/dev/null; then exec setsid env -i "$@"; fi
  exec env -i "$@"
) <"$stdin_file" >"$work/stdout.pipe" 2>"$work/stderr.pipe" &
pid=$!
(
  sleep "$timeout"
  : >"$work/timed-out"
  kill -s KILL -- "-$pid" || kill -s KILL "$pid"
) </dev/null >/dev/null &
timer=$!
wait "$pid"
status=$?
ended=$(now_ms)
kill -s KILL -- "-$pid"
kill -s KILL "$timer"

# The keepers finish once every writer of the script's pipes is gone. Something that left the
# script's process group may still hold one: after 2 s the pod's init (pid 1) kills everything else.
waited=0
while :; do
  missing=0
  for s in stdout stderr; do
    for part in head tail count; do
      [ -e "$work/$s.$part.done" ] || missing=1
    done
  done
  [ "$missing" = 0 ] && break
  waited=$((waited + 1))
  if [ "$waited" -gt 40 ]; then
    [ "$$" != 1 ] || kill -s KILL -1
    break
  fi
  sleep 0.05 || sleep 1
done

cpu_after=$(cpu_usec)
cpu_ms=null
if [ -n "$cpu_before" ] && [ -n "$cpu_after" ]; then cpu_ms=$(((cpu_after - cpu_before) / 1000)); fi
peak=$(or_null "$(peak_bytes)")
ooms=$(or_null "$(oom_kills)")

signal=null
if [ "$status" -gt 128 ]; then
  case $((status - 128)) in
  1) signal='"SIGHUP"' ;; 2) signal='"SIGINT"' ;; 3) signal='"SIGQUIT"' ;; 4) signal='"SIGILL"' ;;
  5) signal='"SIGTRAP"' ;; 6) signal='"SIGABRT"' ;; 7) signal='"SIGBUS"' ;; 8) signal='"SIGFPE"' ;;
  9) signal='"SIGKILL"' ;; 10) signal='"SIGUSR1"' ;; 11) signal='"SIGSEGV"' ;; 12) signal='"SIGUSR2"' ;;
  13) signal='"SIGPIPE"' ;; 14) signal='"SIGALRM"' ;; 15) signal='"SIGTERM"' ;; 24) signal='"SIGXCPU"' ;;
  25) signal='"SIGXFSZ"' ;; 31) signal='"SIGSYS"' ;;
  esac
fi
# Only a kill counts: the timer may fire just after the script ended by itself.
timed_out=false
[ "$status" = 137 ] && [ -e "$work/timed-out" ] && timed_out=true

size_of() {
  n=$(wc -c <"$1") || n=0
  echo $((n + 0))
}

# One frame per stream: a header with the byte counts, then the head and tail bytes in base64.
emit() {
  s=$1
  total=$(cat "$work/$s.count")
  total=$((\${total:-0} + 0))
  head_len=$(size_of "$work/$s.head")
  [ "$total" -ge "$head_len" ] || total=$head_len
  tail_len=$(size_of "$work/$s.tail")
  rest=$((total - head_len))
  [ "$tail_len" -le "$rest" ] || tail_len=$rest
  echo "$frame $s head=$head_len tail=$tail_len total=$total"
  {
    cat "$work/$s.head"
    [ "$tail_len" = 0 ] || tail -c "$tail_len" "$work/$s.tail"
  } | base64
  truncated=false
  [ $((head_len + tail_len)) = "$total" ] || truncated=true
  eval "\${s}_bytes=$total \${s}_truncated=$truncated"
}

emit stdout
emit stderr
report=$(printf '{"v":1,"exit_code":%s,"signal":%s,"timed_out":%s,"wall_ms":%s,"cpu_ms":%s,"peak_memory_bytes":%s,"stdout_bytes":%s,"stderr_bytes":%s,"stdout_truncated":%s,"stderr_truncated":%s,"oom_kill_count":%s}' "$status" "$signal" "$timed_out" $((ended - started)) "$cpu_ms" "$peak" "$stdout_bytes" "$stderr_bytes" "$stdout_truncated" "$stderr_truncated" "$ooms")
echo "$frame report $report"
echo "$frame end"
printf '%s' "$report" >"$report_file"
exit "$status"
`;
