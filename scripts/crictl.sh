#!/usr/bin/env bash
# Builds crictl, which the CRI test (tests/e2e/cri_test.go) drives containerd's CRI
# plugin with, from the sigs.k8s.io/cri-tools module (Debian 12 has no package), once:
# the binary is cached outside the repository, in /var/cache/oci-rt/crictl-<version>
# (a build takes ~6 minutes on 2 CPUs). Needs Go and the Go module proxy.
set -euo pipefail
version=v1.34.0 # the same as e2eCrictlVersion in tests/e2e/cri_test.go
dir=/var/cache/oci-rt/crictl-$version
[ -x "$dir/crictl" ] && exit 0
echo "building crictl $version into $dir (once)"
mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$dir.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" go install "sigs.k8s.io/cri-tools/cmd/crictl@$version"
chmod 755 "$tmp"
mv -T "$tmp" "$dir"
