GO ?= go
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
VERSION := 0.1.0
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
SOURCES := $(shell find . -name '*.go' -o -name '*.c' -o -name '*.h' | grep -v _test.go)

.PHONY: all test demo install clean conformance

all: oci-rt

oci-rt: $(SOURCES) go.mod go.sum
	GOEXPERIMENT=jsonv2 $(GO) build -trimpath -tags urfave_cli_no_docs -ldflags "$(LDFLAGS)" -o $@ .

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
