#!/usr/bin/env bash
# Installs what building and testing oci-rt needs on Debian 12, once:
# `apt-get update` only when a package is missing.
set -euo pipefail
pkgs=(ca-certificates build-essential pkg-config libseccomp-dev musl-tools busybox-static iproute2 "$@")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "installing: ${missing[*]}"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
if ! command -v go >/dev/null; then
	if [ -x /usr/local/go/bin/go ]; then
		echo "add /usr/local/go/bin to PATH" >&2
	else
		echo "Go 1.24 or newer is needed (https://go.dev/dl); Debian 12's golang package is too old" >&2
	fi
	exit 1
fi
