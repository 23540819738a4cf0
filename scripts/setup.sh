#!/usr/bin/env bash
# Installs what the product needs on this machine, once: the sandbox (bubblewrap) and the npm
# packages; with --test also Chromium for the browser tests. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=false
[[ "${1:-}" == "--test" ]] && want_test=true

export INTEGR8S_CACHE="${INTEGR8S_CACHE:-$HOME/.cache/integr8scode}"
mkdir -p "$INTEGR8S_CACHE"

packages=()
command -v bwrap >/dev/null 2>&1 || packages+=(bubblewrap)
$want_test && { [[ -x /usr/bin/chromium ]] || packages+=(chromium); }

if ((${#packages[@]})); then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    echo "Installing ${packages[*]} (apt)…"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  else
    echo "Please install: ${packages[*]} (no apt-get here)" >&2
    exit 1
  fi
fi

# npm packages, from the lockfile; the download cache lives under INTEGR8S_CACHE.
stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
  npm ci --no-audit --no-fund --cache "$INTEGR8S_CACHE/npm" --loglevel=error
fi

# Schemathesis for the API fuzz test, in its own virtualenv with the pinned versions.
if $want_test; then
  fuzz_env="$INTEGR8S_CACHE/schemathesis"
  requirements=test/api-fuzz/requirements.txt
  if ! cmp -s "$requirements" "$fuzz_env/requirements.txt" 2>/dev/null; then
    echo "Installing Schemathesis (PyPI)…"
    rm -rf "$fuzz_env"
    python3 -m venv "$fuzz_env"
    "$fuzz_env/bin/pip" install --quiet --disable-pip-version-check --cache-dir "$INTEGR8S_CACHE/pip" -r "$requirements"
    cp "$requirements" "$fuzz_env/requirements.txt"
  fi
fi
