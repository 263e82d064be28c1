# otelcol-auth0: `make run` starts the collector, `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO      ?= go
BINARY  := _build/otelcol-auth0
FAKEAUTH0 := _build/fakeauth0
# The build tools (mdatagen, golangci-lint) live in their own module, so that
# their dependencies never raise the collector modules of go.mod.
TOOLS_MOD := $(abspath internal/tools/go.mod)
# Packages with a metadata.yaml, for mdatagen.
COMPONENTS := $(sort $(dir $(wildcard receiver/*/metadata.yaml processor/*/metadata.yaml extension/*/metadata.yaml)))
SOURCES := $(shell find receiver processor extension internal -name '*.go' -not -name '*_test.go') go.mod go.sum builder-config.yaml scripts/build.sh

.PHONY: build run test unit e2e action-test deploy-test reliability reliability-ci fuzz fuzz-ci bench redis-sizing manifests generate check-generated lint clean

## build: the otelcol-auth0 binary, with ocb, into _build/ (scripts/build.sh says why in three steps)
build: $(BINARY)

$(BINARY): $(SOURCES)
	GO=$(GO) scripts/build.sh

## run: build and start the collector; without SPLUNK_HEC_ENDPOINT, events land in local/hec-events.jsonl
run: build
	scripts/run.sh

## test: everything CI runs: lint, generated files, unit and integration tests (race detector), end to end
test: lint check-generated unit e2e action-test deploy-test reliability-ci fuzz-ci

## unit: the Go tests of every package, with the race detector
unit:
	scripts/ensure-redis.sh
	$(GO) test -race -count=1 -timeout 20m ./...

## e2e: the built binary, end to end, with the fake Auth0 Management API in its own process
e2e: build $(FAKEAUTH0)
	scripts/ensure-redis.sh
	OTELCOL_AUTH0_BINARY=$(abspath $(BINARY)) FAKEAUTH0_BINARY=$(abspath $(FAKEAUTH0)) \
	  $(GO) test -race -count=1 -tags e2e -timeout 15m ./test/e2e/...

$(FAKEAUTH0): $(SOURCES) $(wildcard cmd/fakeauth0/*.go)
	$(GO) build -o $@ ./cmd/fakeauth0

## action-test: the post-login Action with Node's test runner, against the built collector
action-test: build
	scripts/ensure-node.sh
	OTELCOL_AUTH0_BINARY=$(abspath $(BINARY)) node --test auth0/actions/

## deploy-test: Kubernetes manifests (strict API types, kustomize), Helm values, Dockerfile; the configs validated by the binary
deploy-test: build
	cd test/deploy && OTELCOL_AUTH0_BINARY=$(abspath $(BINARY)) $(GO) test -count=1 ./...

## manifests: copy otelcol-config.yaml, config/pull.yaml and config/redis.yaml into the Kubernetes ConfigMaps' sources
manifests:
	cp otelcol-config.yaml deploy/kubernetes/base/otelcol-config.yaml
	cp config/pull.yaml deploy/kubernetes/pull/pull.yaml
	cp config/redis.yaml deploy/kubernetes/redis/redis.yaml

## generate: regenerate mdatagen code, tests and README status tables
generate:
	@for dir in $(COMPONENTS); do (cd $$dir && $(GO) tool -modfile=$(TOOLS_MOD) mdatagen metadata.yaml); done

## check-generated: fail when generated files differ from what metadata.yaml generates
check-generated:
	GO=$(GO) scripts/check-generated.sh $(COMPONENTS)

## lint: gofmt, go vet, golangci-lint (.golangci.yml) and the pinned collector versions
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./test/e2e/...
	$(GO) vet -tags reliability ./test/reliability/...
	cd test/deploy && $(GO) vet ./...
	$(GO) tool -modfile=$(TOOLS_MOD) golangci-lint run ./...
	cd test/deploy && $(GO) tool -modfile=$(TOOLS_MOD) golangci-lint run --config $(abspath .golangci.yml) ./...
	scripts/check-versions.sh go.mod

## reliability: crash, outage, throttling, hostile input, flood, security, at full length, and the SignUp model over many histories; the dated result file bench/results/reliability-<time>.md, figures to bench/results/reliability.jsonl, full output to bench/results/*.log
# The suite's output is printed whole (every failure's message with it);
# the model's one line per history is kept in its log, and printed, but for
# the passing histories, when a history fails.
reliability: build
	scripts/ensure-redis.sh
	mkdir -p bench/results && rm -f bench/results/reliability.jsonl
	stamp=$$(date -u +%Y-%m-%dT%H%MZ); load=$$(cut -d' ' -f1-3 /proc/loadavg); \
	{ OTELCOL_AUTH0_BINARY=$(abspath $(BINARY)) RELIABILITY_SCALE=full RELIABILITY_REPORT=$(abspath bench/results/reliability.jsonl) \
	  $(GO) test -tags reliability -count=1 -timeout 60m -v ./test/reliability/... 2>&1; echo $$? >bench/results/reliability.rc; } \
	  | tee bench/results/reliability.log; \
	status=$$(cat bench/results/reliability.rc); rm -f bench/results/reliability.rc; \
	SIGNUP_MODEL_HISTORIES=$${SIGNUP_MODEL_HISTORIES:-500} $(GO) test -race -count=1 -timeout 60m -v -run TestExactlyOnceSignUp ./test/signupmodel/ \
	  >bench/results/signupmodel.log 2>&1 || { grep -vE '^ *(=== RUN|--- PASS)' bench/results/signupmodel.log; status=1; }; \
	grep -E '^(ok|PASS)|figures:|histories from' bench/results/signupmodel.log; \
	scripts/reliability-result.sh "$$stamp" "$$load"; \
	exit $$status

## reliability-ci: the same suite, bounded for CI (make test)
reliability-ci: build
	OTELCOL_AUTH0_BINARY=$(abspath $(BINARY)) RELIABILITY_SCALE=ci $(GO) test -tags reliability -count=1 -timeout 20m ./test/reliability/...

## fuzz: a longer fuzzing session of every fuzz target (FUZZTIME per target, default 1m)
fuzz:
	scripts/fuzz.sh $${FUZZTIME:-1m}

## fuzz-ci: every fuzz target for 10s (make test)
fuzz-ci:
	scripts/fuzz.sh 10s 1s

## bench: the pipelines side by side (docs/benchmarks.md), into dated bench/results/bench-<time>.{json,md} with the load average; BENCH_DURATION per phase (20s), BENCH_ROUNDS (3), BENCH_ONLY (a -only filter); BENCH_BASELINE: a built checkout to compare with, alternating (twice as long)
bench: build
	scripts/ensure-redis.sh
	mkdir -p bench/results
	$(GO) build -o _build/bench ./cmd/bench
	stamp=$$(date -u +%Y-%m-%dT%H%MZ); \
	./_build/bench -duration $${BENCH_DURATION:-20s} -rounds $${BENCH_ROUNDS:-3} -profile bench/results -json bench/results/bench-$$stamp.json \
	  $${BENCH_ONLY:+-only "$${BENCH_ONLY}"} $${BENCH_BASELINE:+-baseline $${BENCH_BASELINE}} | tee bench/results/bench-$$stamp.md

## redis-sizing: Redis memory and AOF bytes per claim on a fresh redis-server, for docs/kubernetes.md#sizing; result in bench/results/redis-memory-<date>.json
redis-sizing:
	scripts/ensure-redis.sh
	$(GO) run ./cmd/redissizing -n 100000,1000000

.PHONY: splunk-app
## splunk-app: the Splunk add-on and app as _build/TA_otelcol_auth0.tgz and _build/otelcol_auth0.tgz (docs/splunk.md)
splunk-app:
	$(GO) run ./cmd/splunkapp -app splunk/TA_otelcol_auth0 -o _build/TA_otelcol_auth0.tgz
	$(GO) run ./cmd/splunkapp -app splunk/otelcol_auth0 -o _build/otelcol_auth0.tgz

clean:
	rm -rf _build local
