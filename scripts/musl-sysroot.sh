#!/usr/bin/env bash
# Prepares what building oci-rt against musl needs besides musl-gcc (which
# sees only musl's own headers and libraries): links to the kernel's uapi
# headers, libseccomp's header and its static library, in the directory
# given ($1/include, $1/lib). The Makefile calls it when musl-gcc exists.
set -euo pipefail
dir=$1
arch=$(gcc -dumpmachine)
inc=$(pkg-config --variable=includedir libseccomp)
lib=$(pkg-config --variable=libdir libseccomp)
mkdir -p "$dir/include" "$dir/lib"
ln -sfn /usr/include/linux "$dir/include/linux"
ln -sfn /usr/include/asm-generic "$dir/include/asm-generic"
ln -sfn "/usr/include/$arch/asm" "$dir/include/asm"
for h in seccomp.h seccomp-syscalls.h; do
	[ -e "$inc/$h" ] && ln -sfn "$inc/$h" "$dir/include/$h"
done
ln -sfn "$lib/libseccomp.a" "$dir/lib/libseccomp.a"
