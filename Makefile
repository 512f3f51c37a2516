GO ?= go
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
VERSION := 0.1.0
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
SOURCES := $(shell find . -name '*.go' -o -name '*.c' -o -name '*.h' | grep -v _test.go)

.PHONY: all test demo install clean

all: oci-rt

oci-rt: $(SOURCES) go.mod go.sum
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $@ .

test:
	scripts/test.sh

demo:
	scripts/demo.sh

install: oci-rt
	install -m 0755 oci-rt /usr/local/bin/oci-rt

clean:
	rm -f oci-rt
