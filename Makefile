GO ?= go
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
VERSION := 0.1.0
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
SOURCES := $(shell find . -name '*.go' -o -name '*.c' -o -name '*.h' | grep -v _test.go)

.PHONY: oci-rt all test demo install clean conformance bench bench-smoke

all: oci-rt

# Linked against musl when musl-gcc is installed (scripts/deps.sh installs
# musl-tools): glibc's static start-up probes the CPU's features and caches
# with ~80 CPUID instructions, each a VM exit (~0.3 ms per process here,
# paid by every command and by the executor). Without musl-gcc: gcc, glibc.
MUSL_GCC := $(shell command -v musl-gcc 2>/dev/null)
MUSL_DIR := $(CURDIR)/.build/musl
ifneq ($(MUSL_GCC),)
CGO_ENV := CC=$(MUSL_GCC) CGO_CFLAGS="-O2 -isystem $(MUSL_DIR)/include" CGO_LDFLAGS="-L$(MUSL_DIR)/lib"
endif

# GOEXPERIMENT: jsonv2 halves encoding/json's first decode (what jsonlite
# leaves to it); nogreenteagc keeps Go 1.26's new collector, whose mark bits
# sit at the end of every span, from touching a second page per span: ~20
# page faults fewer per command (a fault costs ~10 µs in a VM that shadows
# page tables).
oci-rt: $(SOURCES) go.mod go.sum
	$(if $(MUSL_GCC),scripts/musl-sysroot.sh $(MUSL_DIR))
	$(CGO_ENV) GOEXPERIMENT=jsonv2,nogreenteagc $(GO) build -trimpath -tags urfave_cli_no_docs,netgo,osusergo -ldflags "$(LDFLAGS) -extldflags -static" -o $@ .

test:
	scripts/test.sh

demo:
	scripts/demo.sh

install: oci-rt
	install -m 0755 oci-rt /usr/local/bin/oci-rt

clean:
	rm -f oci-rt

# OCI runtime-tools conformance (tests/conformance/runner): builds the pinned
# runtime-tools outside the repository and runs its validation programs as
# root. RUNTIMES="oci-rt runc crun" compares runtimes side by side;
# CONFORMANCE_FLAGS="-floor tests/conformance/floor" fails below the floor.
conformance: oci-rt
	$(GO) run ./tests/conformance/runner -oci-rt "$(CURDIR)/oci-rt" $(if $(RUNTIMES),-runtimes "$(RUNTIMES)") $(CONFORMANCE_FLAGS)

# Side-by-side benchmark of oci-rt, runc and crun (bench/, its own Go module:
# the plotting dependencies stay out of the main module). Runs as root in a
# private mount namespace; writes bench/results/latest.{json,png}.
# BENCH_FLAGS="-n 0.2 -scenarios run,cycle -runtimes oci-rt,runc" narrows it.
bench: oci-rt
	cd bench && $(GO) run . -oci-rt "$(CURDIR)/oci-rt" $(BENCH_FLAGS)

# CI: every scenario with tiny counts and 3 containers; asserts no timing.
bench-smoke: oci-rt
	cd bench && $(GO) run . -oci-rt "$(CURDIR)/oci-rt" -smoke $(BENCH_FLAGS)
