# suitecheck — see README.md. The two commands for a new user:
#   make demo    the main job on the embedded sample app
#   make test    every test (installs chromium, postgresql, node and the
#                monitoring clients when missing)
# and for an install: make deb (dist/suitecheck_VERSION_ARCH.deb).

GO      ?= go
BIN     ?= bin/suitecheck
VERSION ?= $(shell packaging/version)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build deb deps deps-conformance test unit conformance vet demo bench fuzz clean

all: build

# A static binary: no libc to map, 1.6 MiB less resident (see BENCHMARKS.md).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# The Debian package, dist/suitecheck_VERSION_ARCH.deb, built with dpkg-deb
# and checked by lintian (an error fails it): see packaging/deb/build.sh.
deb: build
	@GO='$(GO)' BIN='$(BIN)' VERSION='$(VERSION)' COMMIT='$(COMMIT)' packaging/deb/build.sh

deps:
	@.ci/deps

deps-conformance:
	@.ci/deps conformance

vet:
	$(GO) vet ./...
	$(GO) vet -tags conformance ./internal/conformance
	GOOS=freebsd $(GO) build -o /dev/null ./...  # check postgres and HTTP suites are not Linux-only
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

# Every test: the unit and end-to-end tests, then the monitoring clients.
test: unit conformance

unit: deps vet
	$(GO) test -count=1 ./...

# suitecheck under Nagios 4, Icinga 2 and Monit (installed when missing).
conformance: deps-conformance
	$(GO) test -tags conformance -count=1 -timeout 15m ./internal/conformance

demo: deps build
	@$(BIN) demo

# Side by side with what users would run instead (check_pgsql, check_postgres.pl,
# @playwright/test, bare Chromium, check_dummy), interleaved, plus the Go
# benchmarks; writes BENCHMARKS.md. See bench/run.sh (BENCH_ONLY, BENCH_SCALE).
bench: deps build
	@GO='$(GO)' BIN='$(BIN)' bench/run.sh

# The Go benchmarks alone; results are compared as ratios within one run.
.PHONY: bench-go
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# A short fuzzing pass over the parsers (go test -fuzz takes one target at a time).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseRange$$' -fuzztime 20s ./checks
	$(GO) test -run '^$$' -fuzz '^FuzzQuoteLabel$$' -fuzztime 20s ./checks
	$(GO) test -run '^$$' -fuzz '^FuzzPattern$$' -fuzztime 20s ./internal/httpstep
	$(GO) test -run '^$$' -fuzz '^FuzzJSONCompare$$' -fuzztime 20s ./internal/httpstep
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime 20s ./internal/httpstep
	$(GO) test -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime 20s ./suites
	$(GO) test -run '^$$' -fuzz '^FuzzParseJUnit$$' -fuzztime 20s ./suites/testreport
	$(GO) test -run '^$$' -fuzz '^FuzzParseGoTest$$' -fuzztime 20s ./suites/testreport
	$(GO) test -run '^$$' -fuzz '^FuzzParseTAP$$' -fuzztime 20s ./suites/testreport
	$(GO) test -run '^$$' -fuzz '^FuzzMask$$' -fuzztime 20s ./internal/secret
	$(GO) test -run '^$$' -fuzz '^FuzzParams$$' -fuzztime 20s ./internal/pgconn
	$(GO) test -run '^$$' -fuzz '^FuzzValidTenantName$$' -fuzztime 10s ./internal/sampleapp
	$(GO) test -run '^$$' -fuzz '^FuzzCheckAddress$$' -fuzztime 10s ./checks/httpcheck

clean:
	rm -rf bin dist
