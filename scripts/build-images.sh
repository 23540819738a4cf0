#!/usr/bin/env bash
# Builds one container image per function from the Containerfile, tagged <repository>/<name>:<version>.
#
#   scripts/build-images.sh                 every function in functions/registry.ts
#   scripts/build-images.sh submit auth     only these
#
# Environment:
#   CONTAINER_ENGINE   docker or podman (default: whichever is installed, docker first)
#   IMAGE_REPOSITORY   default integr8scode (the image names in knative/base/services.yaml)
#   IMAGE_VERSION      default the version in package.json
#   NODE_VERSION       Node.js major of both stages, default the Containerfile's (22)
#   BUILD_ARGS         extra arguments for `<engine> build`, e.g. "--pull --platform linux/arm64"
#
# The build context holds only what the bundle build reads (package files, tsconfig.json, esbuild.config.ts,
# functions/ and shared/ without tests), the same for Docker and Podman. The bundle stage is the same for
# every function, so the engine's layer cache builds it once.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

die() {
  printf 'build-images.sh: %s\n' "$*" >&2
  exit 1
}

engine="${CONTAINER_ENGINE:-}"
if [[ -z "$engine" ]]; then
  for candidate in docker podman; do
    if command -v "$candidate" >/dev/null 2>&1; then
      engine="$candidate"
      break
    fi
  done
fi
[[ -n "$engine" ]] || die 'neither docker nor podman is installed (or set CONTAINER_ENGINE)'
command -v "$engine" >/dev/null 2>&1 || die "$engine is not installed"

repository="${IMAGE_REPOSITORY:-integr8scode}"
version="${IMAGE_VERSION:-$(sed -n 's/^  "version": "\([^"]*\)",\{0,1\}$/\1/p' package.json | head -n 1)}"
[[ -n "$version" ]] || die 'no version in package.json (set IMAGE_VERSION)'
[[ "$version" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "not a valid image tag: $version"

# The functions, from the registry itself when the dependencies are installed, else from the manifests
# generated from it (knative/manifests.test.ts keeps the two in agreement).
if [[ -x node_modules/.bin/tsx ]]; then
  registry="$(node_modules/.bin/tsx -e \
    "import('./functions/registry.ts').then((m) => console.log(m.FUNCTIONS.map((f) => f.name).join(' ')))")"
else
  registry="$(sed -n 's/^ *integr8scode\.io\/function: *\([a-z0-9-]*\)$/\1/p' knative/base/services.yaml | sort -u | tr '\n' ' ')"
fi
read -r -a known <<<"$registry"
((${#known[@]} > 0)) || die 'found no functions in functions/registry.ts'

if (($# > 0)); then
  names=("$@")
  for name in "${names[@]}"; do
    [[ " ${known[*]} " == *" $name "* ]] || die "unknown function '$name' (known: ${known[*]})"
  done
else
  names=("${known[@]}")
fi

context="$(mktemp -d "${TMPDIR:-/tmp}/integr8scode-images.XXXXXX")"
trap 'rm -rf "$context"' EXIT
tar -C "$repo" --exclude='*.test.ts' --exclude=node_modules -cf - \
  Containerfile .containerignore package.json package-lock.json tsconfig.json esbuild.config.ts functions shared |
  tar -C "$context" -xf -

build_args=(--build-arg "NODE_VERSION=${NODE_VERSION:-22}")
if [[ -n "${BUILD_ARGS:-}" ]]; then
  read -r -a extra <<<"$BUILD_ARGS"
  build_args+=("${extra[@]}")
fi

built=()
for name in "${names[@]}"; do
  tag="$repository/$name:$version"
  printf '== %s (%s)\n' "$tag" "$engine"
  started=$SECONDS
  "$engine" build -f "$context/Containerfile" "${build_args[@]}" --build-arg "FUNCTION=$name" -t "$tag" "$context"
  size="$("$engine" image inspect --format '{{.Size}}' "$tag" 2>/dev/null || echo '?')"
  built+=("$(printf '%-40s %10s bytes  %4d s' "$tag" "$size" $((SECONDS - started)))")
done

printf '\nbuilt %d image(s) with %s:\n' "${#built[@]}" "$engine"
printf '  %s\n' "${built[@]}"
