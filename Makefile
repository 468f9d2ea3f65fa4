# Berth's build. `make help` lists every target; each documents itself with a `## ` comment.

SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS   += --no-print-directory

include hack/tools.mk

GO          ?= go
# Static binaries: the images are FROM scratch.
GO_BUILD    := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w'
# The race detector doubles the time of `make test-unit`; RACE= turns it off.
RACE        ?= -race
TEST_FLAGS  ?=
E2E_FLAGS   ?=
FUZZTIME    ?= 10s
BENCH_FLAGS ?=
RUN_ARGS    ?=

# name:package of every binary `make build` puts in bin/.
COMMANDS := berth:./cmd/berth berthctl:./cmd/berthctl berth-pause:./cmd/pause berth-testapp:./cmd/testapp

# Every Go file that is ours to format (everything outside the build output).
GO_FILES = $(shell find . -name '*.go' -not -path './_output/*' -not -path './bin/*' -not -path './.git/*')

##@ General

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} \
		/^##@/ {printf "\n%s\n", substr($$0, 5)} \
		/^[a-zA-Z0-9_.%-]+:.*## / {printf "  %-22s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Build

.PHONY: build
build: ## Build bin/berth, bin/berthctl, bin/berth-pause and bin/berth-testapp (static, CGO_ENABLED=0)
	@mkdir -p bin
	@for c in $(COMMANDS); do \
		echo "go build -o bin/$${c%%:*} $${c#*:}"; \
		$(GO_BUILD) -o bin/$${c%%:*} $${c#*:}; \
	done

.PHONY: images
images: build ## Build the images berth, berth-pause, berth-testapp and berth-shell (:latest) with docker build, pulling nothing
	hack/images.sh

.PHONY: generate
generate: $(GEN_TOOLS) ## Regenerate the Go code from proto/ (and the gateway's from proto/gateway.yaml) with the pinned buf and protoc plugins
	find proto \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -delete
	PATH="$(TOOLS_BIN):$$PATH" $(BUF) generate

.PHONY: run
run: build ## Build, then run the whole control plane with embedded etcd in ./_output/data, and a node agent on Docker when Docker answers (extra flags: RUN_ARGS=...)
	@if docker info >/dev/null 2>&1; then \
		hack/images.sh; \
		echo "bin/berth server --data-dir ./_output/data --agent $(RUN_ARGS)"; \
		exec bin/berth server --data-dir ./_output/data --agent $(RUN_ARGS); \
	else \
		echo "no Docker Engine answers: running the control plane without a node agent"; \
		exec bin/berth server --data-dir ./_output/data $(RUN_ARGS); \
	fi

.PHONY: tools
tools: $(ALL_TOOLS) ## Install the pinned tools (buf, protoc-gen-go, protoc-gen-go-grpc, protoc-gen-grpc-gateway, staticcheck) into _output/tools/bin

.PHONY: clean
clean: ## Remove bin/ and _output/ except the installed tools
	rm -rf bin
	find _output -mindepth 1 -maxdepth 1 -not -name tools -exec rm -rf {} + 2>/dev/null || true

.PHONY: distclean
distclean: clean ## Also remove the installed tools
	rm -rf _output

##@ Test

.PHONY: test
test: test-unit e2e ## Run every test: unit and integration, then e2e (builds the binaries and images)

.PHONY: test-unit
test-unit: ## Run the unit and integration tests: go test ./... with the race detector (RACE= to disable)
	$(GO) test $(RACE) -timeout 15m $(TEST_FLAGS) ./...

.PHONY: e2e
e2e: build ## Build the binaries and (with Docker) the images, then run the e2e tests (test/e2e, tag e2e); CI=1 makes a missing Docker fail them
	hack/images.sh --if-docker
	$(GO) test -tags e2e -count=1 -timeout 20m $(E2E_FLAGS) ./test/e2e/...

.PHONY: fuzz
fuzz: ## Run every Fuzz test for FUZZTIME each (default 10s)
	FUZZTIME=$(FUZZTIME) hack/fuzz.sh

.PHONY: bench
bench: build ## Run the benchmarks (go run ./bench) and write BENCHMARKS.md (extra flags: BENCH_FLAGS=...)
	BENCH_FLAGS="$(BENCH_FLAGS)" hack/bench.sh BENCHMARKS.md

##@ Verify (each verify-X has a fix-X where a machine can do the fixing)

.PHONY: verify
verify: verify-fmt verify-vet verify-staticcheck verify-buf-lint verify-proto-format verify-generated ## Run every check CI runs

.PHONY: fix
fix: fix-fmt fix-proto-format fix-generated ## Run every fix-X

.PHONY: verify-fmt
verify-fmt: ## Check that every Go file is gofmt'ed
	@out=$$(gofmt -l $(GO_FILES)); \
	if [ -n "$$out" ]; then echo "not gofmt'ed (run make fix-fmt):"; echo "$$out"; exit 1; fi

.PHONY: fix-fmt
fix-fmt: ## gofmt every Go file
	gofmt -w $(GO_FILES)

.PHONY: verify-vet
verify-vet: ## go vet every package, e2e tests included
	$(GO) vet -tags e2e ./...

.PHONY: verify-staticcheck
verify-staticcheck: $(staticcheck-tool) ## staticcheck every package, e2e tests included
	$(STATICCHECK) -tags e2e ./...

.PHONY: verify-buf-lint
verify-buf-lint: $(buf-tool) ## buf lint the .proto files
	$(BUF) lint

.PHONY: verify-proto-format
verify-proto-format: $(buf-tool) ## Check that the .proto files are buf format'ed
	$(BUF) format --diff --exit-code

.PHONY: fix-proto-format
fix-proto-format: $(buf-tool) ## buf format the .proto files in place (then run make generate)
	$(BUF) format --write

.PHONY: verify-generated
verify-generated: $(GEN_TOOLS) ## Check that the generated code is what make generate makes (regenerated in a temp copy and diffed)
	PATH="$(TOOLS_BIN):$$PATH" BUF=$(BUF) hack/verify-generated.sh

.PHONY: fix-generated
fix-generated: generate ## Same as make generate
