# loki-cmp — see README.md. Targets:
#   make build      static binary in bin/loki-cmp
#   make run        generate the seed example (dry run unless LOKI_ADMIN_PASSWORD is set)
#   make test       every test, against the real programs (builds/installs them once, cached)
#   make test-unit  go test ./... only (tests whose programs are missing are skipped)
#   make test-e2e   the test module only (test/: kube-apiserver dry-run, Loki, upgrades)
#   make test-lab   the live lab only (test/lab: docs/lab.md)
#   make test-argocd  test/argocd only: Argo CD's cmp-server, the image (buildah), deploy/
#   make image      the plugin sidecar image $(IMAGE) (docker, else buildah)
#   make push       push $(IMAGE) to its registry (the same storage make image used)
#   make image-archive  bin/loki-cmp-image.tar, for `k3s ctr images import` (no registry)
#   make release    image + push: what deploy/ references, where it looks
#   make bench      benchmarks
#   make lint       gofmt, go vet, staticcheck
GO      ?= go
BIN     := bin/loki-cmp
# The version: the release tag at HEAD (vX.Y.Z), else the file VERSION, which
# names the release deploy/ installs (test/argocd checks that they agree).
VERSION ?= $(shell git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null || cat VERSION)
LDFLAGS := -s -w -X github.com/thedevops/loki-cmp/internal/cli.version=$(VERSION)
SEED    := testdata/examples/seed/loki.yaml
# The image: one name for build, push, archive and deploy/ (its images: and
# the Helm values use the same). Override both here and in deploy/ for
# another registry: make release IMAGE_NAME=registry.example.org/loki-cmp
IMAGE_NAME ?= gitea.thedevops.dev/thedevops/loki-cmp
IMAGE      := $(IMAGE_NAME):$(VERSION)
# buildah with one storage for every target (vfs: no overlay or fuse needed),
# so that push and image-archive find what image built.
BUILDAH ?= buildah --storage-driver vfs
# docker when a daemon answers, else buildah; DOCKER= forces buildah.
DOCKER  ?= $(shell command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && echo docker)
# Real programs the tests run against; hack/test-tools.sh provides them.
TEST_TOOLS := htpasswd kube-apiserver etcd loki vault buildah minio alloy kube-controller-manager kube-scheduler kwok traefik promtail prometheus prometheus-operator cert-manager pebble redis argocd gitea vault-secrets-operator

export CGO_ENABLED := 0

.PHONY: build run test test-e2e test-lab test-argocd test-unit tools image push image-archive release bench fuzz lint clean

build:
	@$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/loki-cmp

run: build
	@echo "make run: the seed example, the reference deployment ($(SEED)): Promtail, as its architecture has, in a privileged collector namespace; a new loki.yaml (README, loki-cmp init) gets Alloy, which runs restricted" >&2
	@if [ -n "$$LOKI_ADMIN_PASSWORD" ]; then \
		$(BIN) generate -f $(SEED); \
	else \
		echo "make run: LOKI_ADMIN_PASSWORD is not set; rendering with --dry-run" >&2; \
		$(BIN) generate --dry-run -f $(SEED); \
	fi

tools:
	hack/test-tools.sh $(TEST_TOOLS)

# The three modules' tests run side by side: the live lab (test/lab, the
# longest, ~7-9 min with its tests in labs of their own, four at once:
# docs/lab.md) spends most of its time waiting for programs and probes,
# not on the CPU (go test's default 10-minute timeout is too close to the
# GitOps lab's ~8 minutes: 25m). Every run's output is kept whole and printed when it ends;
# make test fails if any of them failed. With FUZZ=1 (.ci/run) make fuzz
# runs in the main module's lane once its tests passed: beside the lab,
# which mostly waits, instead of after it.
FUZZ ?=
test: tools
	@dir=$$(mktemp -d); rc=0; \
	run() { name=$$1; shift; ( "$$@" >"$$dir/$$name.log" 2>&1; echo $$? >"$$dir/$$name.rc" ) & }; \
	run test-module sh -c 'cd test && LOKI_CMP_REQUIRE_TOOLS=1 $(GO) test -count=1 -timeout 25m ./...'; \
	run main sh -c 'LOKI_CMP_REQUIRE_TOOLS=1 $(GO) test -count=1 ./...$(if $(FUZZ), && $(MAKE) --no-print-directory fuzz)'; \
	run argocd sh -c 'cd test/argocd && GOTOOLCHAIN=$(ARGOCD_GOTOOLCHAIN) LOKI_CMP_REQUIRE_TOOLS=1 $(GO) test -count=1 ./...'; \
	wait; \
	for name in main test-module argocd; do \
		echo "== go test ($$name): exit $$(cat $$dir/$$name.rc)"; cat "$$dir/$$name.log"; \
		[ "$$(cat $$dir/$$name.rc)" = 0 ] || rc=1; \
	done; \
	rm -rf "$$dir"; exit $$rc

# The separate test module (test/go.mod): its client-go never enters the main go.mod.
test-e2e: tools
	cd test && LOKI_CMP_REQUIRE_TOOLS=1 $(GO) test -count=1 ./...

# The live lab (docs/lab.md): Traefik, kwok and the controllers in the
# test's own network namespace.
test-lab: tools
	cd test && LOKI_CMP_REQUIRE_TOOLS=1 $(GO) test -count=1 -v ./lab/

# Argo CD's own module tree lives only in test/argocd/go.mod (cold build:
# 10+ min on 2 cores; cached afterwards; hack/test-tools.sh builds the lab's
# Argo CD from the same module and build cache first). Argo CD v3.6 needs Go 1.27: the
# go command fetches that toolchain from the module proxy once (76 MB) and
# uses it for this module only; the rest stays on the machine's Go.
ARGOCD_GOTOOLCHAIN := go1.27.3
test-argocd:
	hack/test-tools.sh buildah argocd
	cd test/argocd && export GOTOOLCHAIN=$(ARGOCD_GOTOOLCHAIN) && $(GO) vet ./... && LOKI_CMP_REQUIRE_TOOLS=1 $(GO) test -count=1 ./...

# The Argo CD plugin sidecar image (Dockerfile: FROM scratch, the static
# binary and plugin.yaml). No base image is pulled.
image: build
	@chmod a+rx $(BIN) && chmod a+r plugin.yaml
	@if [ -n "$(DOCKER)" ]; then \
		docker build -t $(IMAGE) . ; \
	else \
		$(BUILDAH) bud --isolation chroot --layers=false -t $(IMAGE) . ; \
	fi
	@echo "image $(IMAGE)"

push:
	@if [ -n "$(DOCKER)" ]; then docker push $(IMAGE); else $(BUILDAH) push $(IMAGE) docker://$(IMAGE); fi

# An archive that keeps the image's full name, so that after
# `sudo k3s ctr images import bin/loki-cmp-image.tar` on each node the pod's
# image (deploy/, imagePullPolicy IfNotPresent) is found without a registry.
image-archive:
	@mkdir -p bin && rm -f bin/loki-cmp-image.tar
	@if [ -n "$(DOCKER)" ]; then docker save -o bin/loki-cmp-image.tar $(IMAGE); \
	else $(BUILDAH) push $(IMAGE) docker-archive:bin/loki-cmp-image.tar:$(IMAGE); fi
	@echo "bin/loki-cmp-image.tar holds $(IMAGE)"

release: image push

test-unit:
	$(GO) test ./...

# Each fuzz target for FUZZTIME (CI: a short bounded run; run longer with
# e.g. make fuzz FUZZTIME=10m). Findings land in testdata/fuzz/ of the
# package; hack/fuzz.sh retries only Go's own deadline error once.
FUZZTIME ?= 20s
FUZZ_TARGETS := config:FuzzLoad config:FuzzImageRef internal/cli:FuzzGenerate generator:FuzzYAML generator:FuzzJSONTree
fuzz:
	@GO=$(GO) hack/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

# Go benchmarks of each step (parse, build, encode, bcrypt, pipeline), then
# whole-process timings of the built binary (docs/performance.md).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./generator ./config ./internal/htpasswd
	$(GO) run ./hack/procbench -bin $(BIN)

# staticcheck at a pinned version, built by the Go module proxy on first
# use and cached in the Go build cache (outside the clone) afterwards.
# v0.8.2: the newest release the proxy serves; it checks this Go 1.26 code.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin
