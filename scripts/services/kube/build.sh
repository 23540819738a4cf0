#!/usr/bin/env bash
# Builds the programs of the local Kubernetes control plane from the Go module proxy, once per version, into
# the cache: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and KWOK.
#
#   build.sh [all|etcd|kubernetes|kwok ...]
#
# Prints `name=path` lines on stdout (eval them) and everything else on stderr. A build that is already in
# the cache costs nothing; a cold one takes many minutes (see ../README.md). Versions come from
# INTEGR8S_KUBE_VERSION, INTEGR8S_ETCD_VERSION and INTEGR8S_KWOK_VERSION.

set -euo pipefail

cache="${INTEGR8S_CACHE:-$HOME/.cache/integr8scode}"
kube_version="${INTEGR8S_KUBE_VERSION:-v1.37.2}"
etcd_version="${INTEGR8S_ETCD_VERSION:-v3.7.3}"
kwok_version="${INTEGR8S_KWOK_VERSION:-v0.8.0}"

mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

# Two jobs that both find the cache empty build one after the other; the second then finds the binaries.
exec 8>"$cache/.kube-build.lock"
flock 8

say() { printf '%s\n' "$*" >&2; }
die() {
  say "kube/build.sh: $*"
  exit 1
}
now_ms() { date +%s%3N; }

# Every module here declares `go 1.26.0`, which the installed Go builds. A newer version may need a newer Go:
# then GOTOOLCHAIN=go1.27.3 in the caller's environment is the approved way; without it the go command says so
# instead of fetching a toolchain on its own.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
# The wrapper modules live in the cache, not in a repository: no VCS stamping. Pure-Go, static binaries, as the
# official releases of these servers are built.
export GOFLAGS=-buildvcs=false
export CGO_ENABLED=0

# Someone else may be measuring CPU on this machine: every compile runs at the lowest priority, and go uses at
# most as many parallel compiles as there are cores.
go_low() { nice -n 19 go "$@"; }

# The module's folder in Go's module cache (downloaded if missing).
module_dir() {
  local dir
  dir="$(cd /tmp && go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || die "could not download $1 from the Go module proxy"
  echo "$dir"
}
module_gomod() {
  local file
  file="$(cd /tmp && go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [[ -n "$file" && -f "$file" ]] || die "could not download the go.mod of $1 from the Go module proxy"
  echo "$file"
}

# Builds one main package of the wrapper module in $1 into $2 and appends `name seconds size` to the build
# record beside it, so the README's numbers can be checked against any machine.
build_one() {
  local module_root="$1" out="$2" package="$3" ldflags="$4" started seconds size
  started="$(now_ms)"
  say "  go build $package"
  (cd "$module_root" && go_low build -trimpath -ldflags "$ldflags" -o "$out.tmp" "$package") >>"$log" 2>&1 || {
    tail -n 40 "$log" >&2
    die "building $package failed (log: $log)"
  }
  mv "$out.tmp" "$out"
  seconds=$(((($(now_ms) - started) + 500) / 1000))
  size="$(du -m "$out" | cut -f1)"
  printf '%s %ss %sMiB\n' "${out##*/}" "$seconds" "$size" >>"$times"
  say "  ${out##*/}: ${seconds}s, ${size} MiB"
}

# Starts a fresh build log and timing record in a build folder.
begin_build_log() {
  mkdir -p "$1"
  log="$1/build.log"
  times="$1/build-times.txt"
  : >"$log"
  : >"$times"
}

# A module in the cache whose only purpose is to pin what gets built: `go.mod` with tool directives, so that
# `go mod tidy` resolves exactly the dependencies of those programs and records their checksums.
write_wrapper() {
  local dir="$1" body="$2" started
  started="$(now_ms)"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '%s\n' "$body" >"$dir/go.mod"
  say "  go mod tidy (downloads the modules)"
  (cd "$dir" && go_low mod tidy) >>"$log" 2>&1 || {
    tail -n 40 "$log" >&2
    die "go mod tidy in $dir failed (log: $log)"
  }
  printf 'go-mod-tidy %ss\n' "$(((($(now_ms) - started) + 500) / 1000))" >>"$times"
}

# ------------------------------------------------------------------------------------------------------ etcd

# etcd's server module has a main package at its root (go.etcd.io/etcd/server/v3, a thin wrapper of etcdmain),
# but its go.mod replaces its sibling modules with ../ paths, so `go install …@version` refuses it. As a
# dependency of a wrapper module those replace lines are ignored and the published sibling versions are used.
build_etcd() {
  local dir="$cache/etcd/$etcd_version"
  etcd_bin="$dir/etcd"
  # Read whole, not piped into grep -q: grep would stop reading, and etcd's SIGPIPE fail the pipeline.
  local reported=""
  [[ -x "$etcd_bin" ]] && reported="$("$etcd_bin" --version 2>/dev/null || true)"
  if [[ "$reported" == *"etcd Version: ${etcd_version#v}"$'\n'* ]]; then
    return
  fi
  begin_build_log "$dir"
  say "kube: building etcd $etcd_version (first run only)…"
  write_wrapper "$dir/src" "module integr8scode.local/etcd-build

go 1.26.0

tool go.etcd.io/etcd/server/v3

require go.etcd.io/etcd/server/v3 $etcd_version"
  build_one "$dir/src" "$etcd_bin" go.etcd.io/etcd/server/v3 "-s -w"
}

# -------------------------------------------------------------------------------------------------- kubernetes

kube_commands=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, …) at v0.0.0 and replaces
# them with ./staging folders that its module zip does not carry, so neither `go install` nor a plain
# `require` works. The wrapper replaces each of them with the published v0.X.Y of the same release
# (v1.37.2 → v0.37.2), taking the list from the kubernetes go.mod itself so that a new release's new staging
# modules are covered without editing this script.
build_kubernetes() {
  local dir="$cache/kube/$kube_version" command missing=()
  kube_bin_dir="$dir/bin"
  for command in "${kube_commands[@]}"; do
    [[ -x "$kube_bin_dir/$command" ]] || missing+=("$command")
  done
  ((${#missing[@]})) || return 0
  mkdir -p "$kube_bin_dir"
  log="$dir/build.log"
  times="$dir/build-times.txt"
  : >"$log"
  say "kube: building Kubernetes $kube_version: ${missing[*]} (first run only, about ten minutes on 2 cores)…"
  local staging_version="v0.${kube_version#v1.}" gomod staging replaces="" tools=""
  gomod="$(module_gomod "k8s.io/kubernetes@$kube_version")"
  while read -r staging; do
    replaces+=$'\t'"$staging => $staging $staging_version"$'\n'
  done < <(grep -oE 'k8s\.io/[A-Za-z0-9._-]+ => \./staging/' "$gomod" | cut -d' ' -f1 | sort -u)
  [[ -n "$replaces" ]] || die "found no staging replace lines in $gomod"
  for command in "${kube_commands[@]}"; do tools+=$'\t'"k8s.io/kubernetes/cmd/$command"$'\n'; done
  if [[ ! -f "$dir/src/go.sum" ]] || ! grep -q "k8s.io/kubernetes $kube_version" "$dir/src/go.mod"; then
    write_wrapper "$dir/src" "module integr8scode.local/kube-build

go 1.26.0

godebug default=go1.26

tool (
$tools)

require k8s.io/kubernetes $kube_version

replace (
$replaces)"
  fi
  # The version stamps that the release build sets (hack/lib/version.sh does the same): without them the
  # servers report v0.0.0-master, and kubectl warns about version skew on every call.
  local minor="${kube_version#v1.}" stamp="" package
  minor="${minor%%.*}"
  for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    stamp+=" -X $package.gitVersion=$kube_version -X $package.gitMajor=1 -X $package.gitMinor=$minor"
    stamp+=" -X $package.gitTreeState=clean -X $package.buildDate=1970-01-01T00:00:00Z"
  done
  # The API server first: it is the largest, and most of the others' packages are compiled along the way.
  for command in "${missing[@]}"; do
    build_one "$dir/src" "$kube_bin_dir/$command" "k8s.io/kubernetes/cmd/$command" "-s -w$stamp"
  done
}

# ------------------------------------------------------------------------------------------------------ kwok

# KWOK's module has no replace directives, but it is built the same way (a wrapper module) so that its
# dependencies are resolved once and recorded beside the binary. The Stage CRD comes from the same module, so
# the CRD always matches the binary that reads it.
build_kwok() {
  local dir="$cache/kwok/$kwok_version"
  kwok_bin="$dir/kwok"
  kwok_stage_crd="$dir/kwok.x-k8s.io_stages.yaml"
  kwok_logs_crd="$dir/kwok.x-k8s.io_logs.yaml"
  if [[ -x "$kwok_bin" && -s "$kwok_stage_crd" ]]; then
    kwok_crds
    return
  fi
  begin_build_log "$dir"
  say "kube: building KWOK $kwok_version (first run only)…"
  local source
  source="$(module_dir "sigs.k8s.io/kwok@$kwok_version")"
  install -m 644 "$source/kustomize/crd/bases/kwok.x-k8s.io_stages.yaml" "$kwok_stage_crd.tmp"
  mv "$kwok_stage_crd.tmp" "$kwok_stage_crd"
  kwok_crds
  write_wrapper "$dir/src" "module integr8scode.local/kwok-build

go 1.26.0

tool sigs.k8s.io/kwok/cmd/kwok

require sigs.k8s.io/kwok $kwok_version"
  build_one "$dir/src" "$kwok_bin" sigs.k8s.io/kwok/cmd/kwok \
    "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v}"
}

# The Logs and ClusterLogs CRDs (container logs served by KWOK's kubelet API), in one file; also for a cache
# whose binary was built before they were used.
kwok_crds() {
  [[ -s "$kwok_logs_crd" ]] && return
  local source
  source="$(module_dir "sigs.k8s.io/kwok@$kwok_version")"
  {
    cat "$source/kustomize/crd/bases/kwok.x-k8s.io_logs.yaml"
    echo "---"
    cat "$source/kustomize/crd/bases/kwok.x-k8s.io_clusterlogs.yaml"
  } >"$kwok_logs_crd.tmp"
  mv "$kwok_logs_crd.tmp" "$kwok_logs_crd"
}

# --------------------------------------------------------------------------------------------------- main

command -v go >/dev/null 2>&1 || die "Go is needed to build the Kubernetes control plane (not found)"
log=/dev/null times=/dev/null
etcd_bin="" kube_bin_dir="" kwok_bin="" kwok_stage_crd="" kwok_logs_crd=""
targets=("$@")
((${#targets[@]})) || targets=(all)
for target in "${targets[@]}"; do
  case "$target" in
  all) build_etcd && build_kubernetes && build_kwok ;;
  etcd) build_etcd ;;
  kubernetes) build_kubernetes ;;
  kwok) build_kwok ;;
  *) die "unknown target '$target' (all, etcd, kubernetes, kwok)" ;;
  esac
done
echo "kube_version=$kube_version" && echo "etcd_version=$etcd_version" && echo "kwok_version=$kwok_version"
[[ -n "$etcd_bin" ]] && echo "etcd_bin=$etcd_bin"
[[ -n "$kube_bin_dir" ]] && echo "kube_bin_dir=$kube_bin_dir"
[[ -n "$kwok_bin" ]] && echo "kwok_bin=$kwok_bin" && echo "kwok_stage_crd=$kwok_stage_crd" &&
  echo "kwok_logs_crd=$kwok_logs_crd"
exit 0
