# govs: `make demo` runs the main job, `make test` runs every test.
GO      ?= go
GOBIN   := $(shell $(GO) env GOPATH)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.Version=$(VERSION)

.PHONY: build demo test deps lint unit race e2e fuzz bench clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/govs ./cmd/govs

deps:
	scripts/install-deps.sh

demo: deps build
	bin/govs demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOBIN)/staticcheck ./...

unit:
	$(GO) test -count=1 ./internal/... ./cmd/...

# The unit tests again under the race detector (allocation checks skip
# themselves there; the plain run above keeps them).
race:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./internal/...

# End-to-end tests need root (network namespaces, veth, XDP).
e2e: build
	$(GO) test -count=1 -timeout 20m ./test/e2e/...

test: deps build lint unit race e2e

# Short fuzzing of every decoder (the corpus under testdata/fuzz is kept).
fuzz:
	scripts/fuzz-all.sh $${FUZZTIME:-20s}

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

clean:
	rm -rf bin
