#!/usr/bin/env bash
# Sets everything up and runs a demo container from a busybox bundle that
# the project builds itself, showing the container from inside and outside.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
[ "$(id -u)" = 0 ] || { echo "run as root (namespaces, mounts and cgroups need it)" >&2; exit 1; }
scripts/deps.sh
make --no-print-directory oci-rt
demo=$(mktemp -d /tmp/oci-rt-demo.XXXXXX)
root="$demo/state"
trap './oci-rt --root "$root" delete --force demo >/dev/null 2>&1; rm -rf "$demo"' EXIT
go run ./tests/mkbundle -o "$demo/bundle" -args 'sh,-c,echo "== inside the container =="; echo "hostname: $(hostname)"; ps; for n in pid net ipc uts mnt cgroup; do echo "$n -> $(readlink /proc/self/ns/$n)"; done; sleep 3'
./oci-rt --root "$root" run --detach -b "$demo/bundle" demo
sleep 0.5
pid=$(./oci-rt --root "$root" state demo | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
echo "== outside, on the host =="
./oci-rt --root "$root" list
echo "the container's PID 1 is host pid $pid: $(tr '\0' ' ' </proc/$pid/cmdline)"
for n in pid net ipc uts mnt cgroup; do
	echo "$n: container $(readlink /proc/$pid/ns/$n)  host $(readlink /proc/self/ns/$n)"
done
echo "== oci-rt ns demo: the same, and who owns each =="
./oci-rt --root "$root" ns demo
./oci-rt --root "$root" kill demo KILL
sleep 0.2
./oci-rt --root "$root" delete demo
echo "deleted; state left: $(./oci-rt --root "$root" list -q | wc -l) containers"
