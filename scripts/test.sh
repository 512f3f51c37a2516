#!/usr/bin/env bash
# Runs every test: unit tests, and as root the integration tests with real
# namespaces, mounts and cgroups. CI (.ci/run) calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
[ "$(id -u)" = 0 ] || { echo "run as root: the integration tests create real containers" >&2; exit 1; }
scripts/deps.sh runc crun containerd podman catatonit containernetworking-plugins procps strace
scripts/crictl.sh
make --no-print-directory oci-rt
go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$unformatted" ] || { echo "gofmt needed: $unformatted" >&2; exit 1; }
OCIRT_BINARY="$PWD/oci-rt" go test -count=1 -timeout 20m ./... 2>&1 | tee /tmp/oci-rt-test.log
