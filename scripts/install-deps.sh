#!/usr/bin/env bash
# Installs exactly the Debian packages Bulkhead needs that are missing; idempotent.
# Runs apt-get as root, or through sudo otherwise. Nothing else is fetched.
set -euo pipefail

packages=(
  cmake make g++ pkg-config
  antlr4 libantlr4-runtime-dev     # parser generator (4.7.2) + C++ runtime (4.9)
  libz3-dev                        # analyzer's prover
  libnftables-dev nftables         # backend validation
  nlohmann-json3-dev               # JSON reports and inputs
  doctest-dev                      # unit tests
  libcli11-dev                     # subcommand parsing
  libfmt-dev                       # formatting of diagnostics and outputs
  libssl-dev                       # SHA-256 (libcrypto) for output headers and manifests
  libmimalloc-dev                  # the executable's allocator (faster, less memory)
  iproute2                         # network namespaces for kernel checks
  python3 python3-jsonschema       # tests: reports validated against their JSON schemas
  clang                            # make fuzz: libFuzzer targets
  graphviz                         # bulkhead graph --svg/--png runs dot
  pre-commit git                   # tests: the pre-commit hooks in a throw-away repository
  groff-base man-db                # tests: the man page renders without warnings
  time util-linux                  # make bench: /usr/bin/time (wall, CPU, peak RSS), unshare
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
run_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
export DEBIAN_FRONTEND=noninteractive
run_root apt-get update -qq
run_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
