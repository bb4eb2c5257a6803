#!/usr/bin/env bash
# Builds or installs the real servers and tools used by the integration tests,
# each pinned version once, into a cache outside the clone, and reuses it.
#
#   hack/test-tools.sh [tool ...]   build/install the named tools (default: all)
#   hack/test-tools.sh --print-bin  print the bin dir the tests put on PATH
#   hack/test-tools.sh --list       print the tool names and pinned versions
#
# Tools: htpasswd etcd buildah openssl redis (Debian packages; alias "apt" for all five),
#        kube-apiserver loki vault minio alloy (built from Go module source),
#        kube-controller-manager kube-scheduler kwok traefik promtail prometheus
#        prometheus-operator cert-manager pebble argocd gitea vault-secrets-operator (the live lab's,
#        test/lab; built from Go module source; prometheus-operator also builds
#        prometheus-config-reloader, cert-manager its acmesolver, pebble its
#        pebble-challtestsrv; argocd is Argo CD's servers, one binary under
#        five names).
#
# Cache: ${LOKI_CMP_TOOLS_CACHE:-$HOME/.cache/loki-cmp-test}
#   <name>-<version>/<name>   the built binary; the directory appears only
#                             once the binary is complete and verified (rename)
#   alloy-<version>-slim-<hash>/components.txt  the components that slim
#                             Alloy build links (hash: of this list)
#   bin/<name>                stable symlink to the versioned binary (or the
#                             system binary for the Debian packages)
#   .logs/<name>-<version>.log  output of the last build of that tool
#   .build-<name>/            scratch build dir, removed afterwards
#
# Environment: TEST_TOOLS_VERBOSE=1 streams build output to stderr instead of
# only to the log file. TEST_TOOLS_JOBS=N (default 2) builds up to N Go tools
# at the same time; 1 builds them one after another.
#
# Recipes: the build functions below (each says why it is as slim as it can
# be). Every Go-built program goes through ensure_go: pinned version (plus a
# recipe tag where the recipe cuts code), built once into the cache, verified
# by running its version command before it is linked into bin/ and again
# whenever the cache is reused; lanes take the longest builds first.
#
# ---- budget -------------------------------------------------------------------
# CI's hard limit is 90 min for one .ci/run. Our budget, for every issue that
# adds a program here: a cold .ci/run (empty Go build, module and tool caches)
# <= 75 min and a warm one <= 10 min, on the 2-core machine; a new program
# states its cold build time and the new totals. docs/performance.md has the
# measured runs and the ledger of what the live lab's programs add.
# Cold builds in the cold .ci/run of 2026-12-03 (commit 95eb145: two lanes,
# 2 cores, TOOL_BUILD_FLAGS; in parentheses the cold run of ae3b5f2, the day
# before, without them, on a machine that built Argo CD, whose flags did
# not change, 1.3x slower: 905 s against 695 s; docs/performance.md has both):
#   program                  cold wall         slimmer?
#   traefik                    780 s (1,339)   no: see build_traefik
#   loki                       725 s (1,295)   no: see build_loki
#   argocd                     695 s (905)     Argo CD's servers only (no CLI, Dex, ApplicationSet, notifications)
#   vault (slim)               470 s (860)     was 2,155 s, 365 MB in full
#   kube-apiserver             464 s (755)     no: see build_kube_apiserver; since b7479ab
#                                              with inlining (alone: 267.5 s; ~+1 min in a lane)
#   alloy (slim)               409 s (823)     was 2,065 s, 517 MB, ~6 GB RAM, cgo
#   promtail                   317 s (573)     after loki: shares its build cache
#   gitea                      310 s (569)     no frontend bundle
#   cert-manager               214 s (349)     controller + acmesolver, only what loki-cmp renders
#   minio                      198 s (405)     no: see build_minio
#   prometheus (slim)          172 s (314)     after loki/promtail (shared deps); kubernetes SD only
#   prometheus-operator        155 s (322)     + its config reloader; see build_prometheus_operator
#   kwok                       154 s (223)
#   kube-controller-manager     66 s (115)     after kube-apiserver (same cache)
#   pebble                      10 s (20)      + challtestsrv
#   vault-secrets-operator     119 s           (added 2026-12-03 with issue 19: cold build cache,
#                                              warm module cache, alone; 136 s in the cold run of bef31cf)
#   kube-scheduler               6 s
# Lanes: 2,632 s and 2,513 s (about 4,480 s each the day before). The whole
# cold .ci/run: 3,570 s (59.5 min), of which tools + lint 2,685 s.
# Cold run of bef31cf (2026-12-04, a machine ~1.5x faster than 95eb145's, with
# the Vault Secrets Operator): lanes 1,804 s and 1,846 s, tools + lint 1,887 s,
# the whole run 2,583 s (43.1 min); scaled to the slowest machine seen, ~75 min:
# the budget's edge, so the next program needs a cut of its own.
set -Eeuo pipefail

# ---- pins -------------------------------------------------------------------
KUBE_VERSION=v1.34.4          # k8s.io/kubernetes
KUBE_STAGING_VERSION=v0.34.4  # k8s.io/<staging> modules
LOKI_VERSION=v3.7.8
VAULT_VERSION=v1.21.4
VAULT_RECIPE=slim1            # names the cache dir: vault-v1.21.4-slim1 (bump on any recipe change)
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
ALLOY_VERSION=v1.11.0
ALLOY_SYNTAX_VERSION=v0.1.1   # v0.1.0 lacks syntax/typecheck
KWOK_VERSION=v0.8.0           # sigs.k8s.io/kwok (the lab's kubelets)
TRAEFIK_VERSION=v3.7.10       # v3.7.11-13: dependencies refused by the proxy (403)
# Promtail lives in the Loki module up to 3.6 (3.7 dropped it). The seed's
# image is promtail:3.6.11, but the proxy refuses every 3.6 module of Loki
# (403 "This module version is not available": v3.6.0, v3.6.9, v3.6.10,
# v3.6.11) and v3.5.0 is the newest it serves: the lab runs that build for
# the image (docs/lab.md says so).
PROMTAIL_VERSION=v3.5.0
# prometheus-operator: v0.85.0 is the one version the proxy lists. Prometheus:
# the operator's newest supported release (its PrometheusCompatibilityMatrix
# ends at v3.5.0, and it refuses to manage older than v2.45.0, which rules out
# Debian's 2.42); Prometheus 3.x is published as the Go module v0.3xx.y.
PROMETHEUS_OPERATOR_VERSION=v0.85.0
PROMETHEUS_VERSION=v3.5.0
PROMETHEUS_MODULE_VERSION=v0.305.0
# cert-manager: v1.19.5 is the newest v1.19 the proxy serves (v1.19.6: 403);
# the lab's mains (hack/certmanager) pin it in their go.mod, which must agree.
CERT_MANAGER_VERSION=v1.19.5
PEBBLE_VERSION=v2.10.3        # github.com/letsencrypt/pebble/v2
# Argo CD: the release test/argocd/go.mod requires (its cmp-server tests and
# the lab's Argo CD are one version: checked); v3 needs Go 1.27.
ARGOCD_VERSION=v3.6.1
ARGOCD_GOTOOLCHAIN=go1.27.3
# Gitea (the lab's git server): its go.mod says `module gitea.dev`, so it is
# built inside a copy of the module zip, not installed.
GITEA_VERSION=v1.27.3
# HashiCorp's Vault Secrets Operator (credentials.vaultStaticSecret, the lab's
# S3 key rotation): v0.10.0 is the one version the proxy serves (v0.9.1,
# v0.10.1, v0.11.0, v1.0.0, v1.0.1: 403).
VSO_VERSION=v0.10.0

APT_TOOLS=(htpasswd etcd buildah openssl redis)
GO_TOOLS=(kube-apiserver loki vault minio alloy kube-controller-manager kube-scheduler kwok traefik promtail
  prometheus prometheus-operator cert-manager pebble argocd gitea vault-secrets-operator)
ALL_TOOLS=("${APT_TOOLS[@]}" "${GO_TOOLS[@]}")

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="${LOKI_CMP_TOOLS_CACHE:-$HOME/.cache/loki-cmp-test}"
BIN="$CACHE/bin"
VERBOSE="${TEST_TOOLS_VERBOSE:-0}"
JOBS="${TEST_TOOLS_JOBS:-2}"   # Go tool builds running at once
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || { printf 'test-tools: ERROR: TEST_TOOLS_JOBS=%q is not a positive integer\n' "$JOBS" >&2; exit 2; }

# Go environment: module proxy + normal module cache, local toolchain only,
# no workspace, no VCS stamping (sources are copies of module zips).
export GOTOOLCHAIN=local
export GOWORK=off
export GO111MODULE=on
export GOFLAGS=-buildvcs=false
# Static builds whatever the caller set (make exports CGO_ENABLED=0 for
# loki-cmp itself); build_alloy alone turns cgo on.
export CGO_ENABLED=0
# Flags of every tool build but Argo CD's and Kubernetes' (build_argocd and
# build_kube_cmd say why). These are test servers, not what we ship: they
# are compiled without inlining (-l), the costliest optimization to
# compile, and without DWARF (-dwarf=false), which -ldflags=-w would strip
# anyway. Measured on kwok v0.8.0, cold build
# cache, 2 cores: 105.6 s wall / 164 s user by default, 101.5 / 160 with
# -dwarf=false, 79.0 / 119 with both (-25% wall); adding -N (no
# optimization at all) gave only 77.2 s, so the servers keep the rest of the
# optimizer. What they lose at run time is the inlined calls' speed.
TOOL_BUILD_FLAGS=(-trimpath "-gcflags=all=-l -dwarf=false")

# ---- messages and errors ----------------------------------------------------
exec 3>&2   # original stderr, also reachable from redirected build subshells
CUR_TOOL=-
CUR_STEP=-
CUR_WORK=
IN_PARENT_WAIT=0
IN_BUILD=0

say() { printf 'test-tools: %s\n' "$*" >&3; }
die() { printf 'test-tools: ERROR: %s: %s\n' "$CUR_TOOL" "$*" >&3; exit 1; }
step() { # record (and log, inside a build) the current step
  CUR_STEP="$*"
  if [[ "$IN_BUILD" == 1 ]]; then printf '== %s: %s\n' "$CUR_TOOL" "$*"; fi
}
on_err() {
  local rc=$? cmd=$BASH_COMMAND line=${BASH_LINENO[0]}
  [[ "$IN_PARENT_WAIT" == 1 ]] && return 0
  printf 'test-tools: ERROR: %s: step "%s" failed (exit %d, line %s): %s\n' \
    "$CUR_TOOL" "$CUR_STEP" "$rc" "$line" "$cmd" >&3
}
on_exit() {
  if [[ -n "$CUR_WORK" && -d "$CUR_WORK" ]]; then
    chmod -R u+w "$CUR_WORK" 2>/dev/null || true
    rm -rf "$CUR_WORK" || true
  fi
}
trap on_err ERR
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_ms() { date +%s%3N; }
elapsed() { # start_ms -> "12.3"
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%d' $((d / 1000)) $(((d % 1000) / 100))
}
ready() { # name version start_ms cached|built
  printf 'test-tools: %s %s ready (%ss, %s)\n' "$1" "$2" "$(elapsed "$3")" "$4"
}

link_bin() { # name target
  mkdir -p "$BIN"
  ln -sfn "$2" "$BIN/.$1.tmp.$$"
  mv -Tf "$BIN/.$1.tmp.$$" "$BIN/$1"
}

# Lock per tool so that parallel invocations (e.g. several test packages)
# build a tool once and wait for each other.
lock_tool() { # name
  mkdir -p "$CACHE"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE/.lock-$1"
    flock 9
  fi
}
unlock_tool() { if command -v flock >/dev/null 2>&1; then exec 9>&-; fi; }

# Directory of a module version in the module cache (downloads it if needed).
mod_dir() { # module@version
  local out dir
  out=$(go mod download -json "$1") || { printf 'go mod download %s failed:\n%s\n' "$1" "$out" >&2; return 1; }
  dir=$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -n "$dir" && -d "$dir" ]] || { printf 'no Dir for %s in: %s\n' "$1" "$out" >&2; return 1; }
  printf '%s\n' "$dir"
}

# Copy a module's source out of the read-only module cache into $2.
copy_module() { # module@version destdir
  local dir
  dir=$(mod_dir "$1")
  mkdir -p "$2"
  cp -a "$dir/." "$2/"
  chmod -R u+w "$2"
}

# In-place perl substitution that must match exactly once, or fail loudly.
# PATTERN is a perl regex; REPLACEMENT is a perl expression (evaluated with
# /ee, so write it as a quoted string that may use $1 and \n).
patch_once() { # file pattern replacement description
  local file=$1 what=$4 n
  [[ -f "$file" ]] || die "patch '$what': file $file not found"
  n=$(PAT="$2" REP="$3" perl -0777 -i -pe '
        BEGIN { $n = 0 }
        $n += s/$ENV{PAT}/$ENV{REP}/gee;
        END { print STDERR "$n\n" }' "$file" 2>&1 >/dev/null) || die "patch '$what': perl failed: $n"
  [[ "$n" == 1 ]] || die "patch '$what': expected 1 match in $file, got '$n' (source changed?)"
  grep -n -F -e 'iStore.activateDeduplication(ctx, req)' -e 'ActivationFunc(ctx, nil, "")' \
    -e 'restoredKeyName := keyName' "$file" || true
}

# ---- Debian packages ----------------------------------------------------------
APT_UPDATED=0
as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
apt_fail() { # log
  local rc=$?
  say "$CUR_TOOL: step \"$CUR_STEP\" failed (exit $rc); last lines of $1:"
  tail -n 30 "$1" >&3 || true
  exit 1
}
apt_install() { # package log
  if [[ "$APT_UPDATED" == 0 ]]; then
    step "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$2" 2>&1 || apt_fail "$2"
    APT_UPDATED=1
  fi
  step "apt-get install $1"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 "$1" \
    >>"$2" 2>&1 || apt_fail "$2"
}

ensure_apt() { # name command package verify-cmd...
  local name=$1 cmd=$2 pkg=$3; shift 3
  local t0 path ver how=cached out
  t0=$(now_ms)
  CUR_TOOL=$name
  if ! command -v "$cmd" >/dev/null 2>&1; then
    lock_tool "$name"
    if ! command -v "$cmd" >/dev/null 2>&1; then
      mkdir -p "$CACHE/.logs"
      say "$name: installing Debian package $pkg (log: $CACHE/.logs/apt-$pkg.log)"
      apt_install "$pkg" "$CACHE/.logs/apt-$pkg.log"
      how=built
    fi
    unlock_tool
  fi
  step "locate $cmd"
  path=$(command -v "$cmd") || die "$cmd not found after installing $pkg"
  step "verify: $*"
  out=$("$@" 2>&1) || die "verify '$*' failed: $out"
  ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo system)
  link_bin "$name" "$path"
  ready "$name" "$ver" "$t0" "$how"
}

tool_htpasswd() { ensure_apt htpasswd htpasswd apache2-utils htpasswd -nbB u p; }
tool_etcd()     { ensure_apt etcd etcd etcd-server etcd --version; }
tool_buildah()  { ensure_apt buildah buildah buildah buildah --version; }
tool_openssl()  { ensure_apt openssl openssl openssl openssl version; }
tool_redis()    { ensure_apt redis redis-server redis-server redis-server --version; }

# ---- Go-built tools ---------------------------------------------------------
# ensure_go name version builder 'verify args' [version-substring]
# builder is called in a subshell as: builder WORKDIR OUTFILE, cwd = WORKDIR.
ensure_go() {
  local name=$1 version=$2 builder=$3 vargs=$4 want=${5-}
  local dest="$CACHE/$name-$version" t0 how=cached
  t0=$(now_ms)
  CUR_TOOL=$name
  CUR_STEP="check cache"
  if ! verify_go "$dest/$name" "$vargs" "$want" quiet; then
    lock_tool "$name"
    if ! verify_go "$dest/$name" "$vargs" "$want" quiet; then
      build_go "$name" "$version" "$builder" "$vargs" "$want"
      how=built
    fi
    unlock_tool
  fi
  link_bin "$name" "../$name-$version/$name"
  ready "$name" "$version" "$t0" "$how"
}

verify_go() { # binary 'args' want [quiet]
  local bin=$1 want=$3 quiet=${4-} out
  local -a args
  read -r -a args <<<"$2"
  [[ -x "$bin" ]] || return 1
  if ! out=$("$bin" "${args[@]}" 2>&1); then
    [[ -n "$quiet" ]] && { say "$CUR_TOOL: cached $bin does not run, rebuilding"; return 1; }
    printf '%s\n' "$out" | tail -n 20 >&3
    return 1
  fi
  [[ -n "$out" ]] || return 1
  # The version it reports must be the pinned one: a cached binary from
  # another pin is rebuilt, a fresh build that reports another is an error.
  if [[ -n "$want" && "$out" != *"$want"* ]]; then
    say "$CUR_TOOL: '$bin ${args[*]}' does not report $want: $(head -n1 <<<"$out")"
    return 1
  fi
  [[ -n "$quiet" ]] || printf '%s\n' "$out" | head -n 3
  return 0
}

build_go() { # name version builder vargs want
  local name=$1 version=$2 builder=$3 vargs=$4 want=$5
  local dest="$CACHE/$name-$version" work="$CACHE/.build-$name"
  local logdir="$CACHE/.logs" log rc
  mkdir -p "$logdir"
  log="$logdir/$name-$version.log"
  rm -rf "$work"
  mkdir -p "$work/out"
  CUR_WORK=$work
  say "$name: building $version (log: $log)"
  IN_PARENT_WAIT=1
  set +e
  if [[ "$VERBOSE" == 1 ]]; then
    ( IN_PARENT_WAIT=0; IN_BUILD=1; set -Eeuo pipefail; cd "$work"; "$builder" "$work" "$work/out/$name" ) 2>&1 | tee "$log" >&3
    rc=${PIPESTATUS[0]}
  else
    ( IN_PARENT_WAIT=0; IN_BUILD=1; set -Eeuo pipefail; cd "$work"; "$builder" "$work" "$work/out/$name" ) >"$log" 2>&1
    rc=$?
  fi
  set -e
  IN_PARENT_WAIT=0
  if [[ $rc -ne 0 ]]; then
    say "$name: build failed (exit $rc); last lines of $log:"
    tail -n 30 "$log" >&3 || true
    exit 1
  fi
  CUR_STEP="verify built binary ($vargs)"
  [[ -x "$work/out/$name" ]] || die "build produced no $work/out/$name"
  verify_go "$work/out/$name" "$vargs" "$want" >>"$log" || die "built binary failed to run: $name $vargs"
  CUR_STEP="install into $dest"
  if [[ -e "$dest" ]]; then
    local old="$CACHE/.old-$name-$$"
    mv -T "$dest" "$old"
    rm -rf "$old"
  fi
  mv -T "$work/out" "$dest"
  rm -rf "$work"
  CUR_WORK=
}

# -- kube-apiserver, kube-controller-manager, kube-scheduler -------------------
# k8s.io/kubernetes through a wrapper module (its go.mod replaces the staging
# modules with ./staging paths the module zip has no use for: the wrapper
# points them at the published k8s.io/<staging> modules instead). The three
# share that module graph, so in one GOCACHE the second and third builds
# compile only their own packages.
# Not slimmer: the binary under test is the whole API server. Server-side
# dry-run runs every object through the built-in API groups' validation, the
# admission chain (Pod Security included) and the CRD machinery, and there is
# no build tag or plugin registry that leaves part of it out; cutting
# packages would mean editing the code the tests are there to trust. The
# controller manager and scheduler are the live lab's (test/lab): its
# controllers are chosen at run time by --controllers, not at build time.
kube_wrapper() { # work: writes $work/wrapper/go.mod, cd there
  local work=$1 kdir gover staging m
  step "download k8s.io/kubernetes@$KUBE_VERSION"
  kdir=$(mod_dir "k8s.io/kubernetes@$KUBE_VERSION")
  step "generate wrapper module"
  gover=$(awk '$1 == "go" { print $2; exit }' "$kdir/go.mod")
  staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#\1#p' "$kdir/go.mod" \
            | grep -v -x -e k8s.io/sample-cli-plugin -e k8s.io/sample-controller)
  [[ -n "$staging" && -n "$gover" ]] || die "could not read staging modules / go version from $kdir/go.mod"
  mkdir -p "$work/wrapper"
  {
    echo "module loki-cmp.test/kube-apiserver-wrapper"
    echo
    echo "go $gover"
    echo
    grep '^godebug ' "$kdir/go.mod" || true
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    for m in $staging; do echo "	$m => $m $KUBE_STAGING_VERSION"; done
    echo ")"
  } >"$work/wrapper/go.mod"
  cat "$work/wrapper/go.mod"
}

build_kube_cmd() { # work out cmd
  local work=$1 out=$2 cmd=$3 cb=k8s.io/component-base/version
  kube_wrapper "$work"
  cd "$work/wrapper"
  step "go build k8s.io/kubernetes/cmd/$cmd"
  local minor=${KUBE_VERSION#v*.}; minor=${minor%%.*}
  local major=${KUBE_VERSION#v}; major=${major%%.*}
  # Not TOOL_BUILD_FLAGS: kube-apiserver is the busiest program of the
  # tests (each lab's, and test/validation's dry runs; 30-44% of a core
  # each while three labs ran), and without inlining the warm .ci/run went
  # over its 10 minutes (615 s; the lab's package 503 -> 578 s).
  go build -mod=mod -trimpath \
    -ldflags="-s -w -X $cb.gitVersion=$KUBE_VERSION -X $cb.gitMajor=$major -X $cb.gitMinor=$minor -X $cb.gitTreeState=clean" \
    -o "$out" "k8s.io/kubernetes/cmd/$cmd"
}
build_kube_apiserver() { build_kube_cmd "$1" "$2" kube-apiserver; }
build_kube_controller_manager() { build_kube_cmd "$1" "$2" kube-controller-manager; }
build_kube_scheduler() { build_kube_cmd "$1" "$2" kube-scheduler; }

# -- kwok: the lab's kubelets ---------------------------------------------------
# sigs.k8s.io/kwok plays the kubelet of fake nodes: it moves the Pods bound
# to them through their lifecycle (IP, Running, Ready) by Stage documents,
# which it does not embed; the lab reads them from the same module version
# (test/lab). Not slimmer: one small command, its whole job is used.
build_kwok() { # work out
  local work=$1 out=$2
  step "go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  mkdir -p "$work/gobin"
  GOBIN="$work/gobin" go install "${TOOL_BUILD_FLAGS[@]}" \
    -ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  mv "$work/gobin/kwok" "$out"
}

# -- traefik: the lab's ingress controller, as k3s ships it ----------------------
# go install refuses the module's replace directives, so it is built inside a
# copy. go.mod replaces github.com/traefik/traefik/dynamic/ext with the nested
# module ./pkg/config/dynamic/ext, which the module zip leaves out: it is
# recreated with the two empty types the open-source tree uses (HTTP,
# Router: extension points of Traefik's commercial builds). The web UI embeds
# an empty static/ (the frontend is not built); the API it serves is Go.
# Not slimmer: the providers, middlewares and ACME client are in one
# registry of static configuration with no build tags; the lab uses the
# kubernetesingress and kubernetescrd providers, BasicAuth, TLS and the API.
build_traefik() { # work out
  local work=$1 out=$2 ext=pkg/config/dynamic/ext
  step "copy github.com/traefik/traefik/v3@$TRAEFIK_VERSION"
  copy_module "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" "$work/src"
  cd "$work/src"
  step "recreate the nested module $ext"
  grep -q "github.com/traefik/traefik/dynamic/ext => ./$ext" go.mod || die "go.mod no longer replaces dynamic/ext with ./$ext"
  [[ ! -e "$ext/go.mod" ]] || die "$ext/go.mod exists in the module zip now: drop this step"
  mkdir -p "$ext"
  printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24\n' >"$ext/go.mod"
  printf '%s\n' '// Package ext: extension points of the configuration, empty in open-source builds.' \
    'package ext' '' '// HTTP is empty in open-source builds.' 'type HTTP struct{}' '' \
    '// Router is empty in open-source builds.' 'type Router struct{}' >"$ext/ext.go"
  mkdir -p webui/static
  step "go build ./cmd/traefik"
  go build -mod=mod "${TOOL_BUILD_FLAGS[@]}" \
    -ldflags="-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
    -o "$out" ./cmd/traefik
}

# -- loki: module source of github.com/grafana/loki/v3 --------------------------
# Not slimmer: Loki has no build tags or registry for its parts. The
# candidates (the GCS, Azure, Swift, BOS, COS and OSS storage clients) hang
# off the same storage factories that choose filesystem and S3 for the tests
# (pkg/storage/factory.go, pkg/storage/bucket/client.go), so leaving them out
# means editing a code path under test; its modules are one binary with
# every target (write, read, backend), which the simple-scalable test runs.
build_loki() { # work out
  local work=$1 out=$2 b=github.com/grafana/loki/v3/pkg/util/build
  step "copy github.com/grafana/loki/v3@$LOKI_VERSION"
  copy_module "github.com/grafana/loki/v3@$LOKI_VERSION" "$work/src"
  cd "$work/src"
  step "go mod edit -dropreplace=github.com/grafana/loki/pkg/push"
  go mod edit -dropreplace=github.com/grafana/loki/pkg/push
  step "go build ./cmd/loki"
  go build -mod=mod "${TOOL_BUILD_FLAGS[@]}" \
    -ldflags="-s -w -X $b.Version=${LOKI_VERSION#v} -X $b.Branch=HEAD" \
    -o "$out" ./cmd/loki
}

# -- promtail: the seed's collector, from the Loki module ---------------------
# Built without cgo, so without the systemd journal target (build tag
# promtail_journal_enabled): the rendered config tails files only. Not
# slimmer otherwise: its targets and stages are one registry of the config.
# -- Prometheus and prometheus-operator (the lab's scrape flow) ---------------
# Prometheus: built inside a copy of its module (its go.mod has a replace
# directive, which `go install` refuses). Slimmer: plugins/plugins.go, the
# generated list of service-discovery plugins ("make plugins" writes it from
# plugins.yml, the documented way to choose them), is rewritten to the one
# the operator's scrape configs use, kubernetes; file and http stay (always
# linked, plugins/minimum.go). Cut: the cloud SDs (aws, azure, gce,
# openstack, …), whose SDKs are most of the build. A config that names one
# of them fails to load (tried: "field ec2_sd_configs not found in type
# config.ScrapeConfig"); nothing the operator writes for a ServiceMonitor
# does. The UI is not built (no builtinassets tag): the
# API and /targets' JSON are what the lab reads.
build_prometheus() { # work out
  local work=$1 out=$2 v=github.com/prometheus/common/version
  step "copy github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION"
  copy_module "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" "$work/src"
  cd "$work/src"
  step "plugins/plugins.go: kubernetes service discovery only"
  grep -q '"github.com/prometheus/prometheus/discovery/kubernetes"' plugins/plugins.go ||
    die "plugins/plugins.go no longer registers discovery/kubernetes: recheck the recipe"
  printf '%s\n' '// Written by loki-cmp'"'"'s hack/test-tools.sh: the kubernetes SD only.' '' \
    'package plugins' '' 'import (' '	// Register kubernetes plugin.' \
    '	_ "github.com/prometheus/prometheus/discovery/kubernetes"' ')' >plugins/plugins.go
  step "go build ./cmd/prometheus"
  go build -mod=mod "${TOOL_BUILD_FLAGS[@]}" \
    -ldflags="-s -w -X $v.Version=${PROMETHEUS_VERSION#v} -X $v.Revision=$PROMETHEUS_MODULE_VERSION -X $v.Branch=HEAD" \
    -o "$out" ./cmd/prometheus
}

# prometheus-operator: the operator and its prometheus-config-reloader (the
# init container and sidecar of every Prometheus pod it makes), one module,
# one build dir. Its go.mod replaces its two nested modules (pkg/apis/
# monitoring, pkg/client) with ./ paths the module zip leaves out: the
# replaces are dropped, so the same versions come from the proxy. Not
# slimmer: one controller with no plugin registry.
build_prometheus_operator() { # work out
  local work=$1 out=$2 v=github.com/prometheus/common/version m
  local mod=github.com/prometheus-operator/prometheus-operator
  step "copy $mod@$PROMETHEUS_OPERATOR_VERSION"
  copy_module "$mod@$PROMETHEUS_OPERATOR_VERSION" "$work/src"
  cd "$work/src"
  for m in pkg/apis/monitoring pkg/client; do
    [[ ! -e "$m/go.mod" ]] || die "$m/go.mod is in the module zip now: drop this step"
    step "go mod edit: drop the replace of $mod/$m, require it at $PROMETHEUS_OPERATOR_VERSION"
    go mod edit -dropreplace="$mod/$m" -require="$mod/$m@$PROMETHEUS_OPERATOR_VERSION"
  done
  local ld="-s -w -X $v.Version=${PROMETHEUS_OPERATOR_VERSION#v} -X $v.Revision=$PROMETHEUS_OPERATOR_VERSION -X $v.Branch=HEAD"
  step "go build ./cmd/operator ./cmd/prometheus-config-reloader"
  go build -mod=mod "${TOOL_BUILD_FLAGS[@]}" -ldflags="$ld" -o "$out" ./cmd/operator
  go build -mod=mod "${TOOL_BUILD_FLAGS[@]}" -ldflags="$ld" -o "$(dirname "$out")/prometheus-config-reloader" ./cmd/prometheus-config-reloader
}

# -- cert-manager and Pebble (the lab's TLS flow) -------------------------------
# cert-manager's commands (cmd/controller, cmd/acmesolver) are nested modules
# the proxy does not serve; hack/certmanager holds two small mains on its
# published packages instead (the controllers and the ACME issuer are
# upstream's code, started as upstream starts them), pinned by their own
# go.mod and go.sum. Slimmer: only what loki-cmp renders is linked (ACME
# issuer, Certificates, ingress-shim; not the CA, self-signed, Vault and
# Venafi issuers, CertificateSigningRequests or the Gateway API shim); no
# webhook (admission defaults and validation only: the lab's API server
# validates the CRDs' schemas).
build_cert_manager() { # work out
  local work=$1 out=$2 src=$REPO_ROOT/hack/certmanager pinned
  step "check hack/certmanager/go.mod pins $CERT_MANAGER_VERSION"
  pinned=$(awk '$1 == "github.com/cert-manager/cert-manager" { print $2 }' "$src/go.mod")
  [[ "$pinned" == "$CERT_MANAGER_VERSION" ]] || die "hack/certmanager/go.mod requires cert-manager $pinned, the pin is $CERT_MANAGER_VERSION"
  mkdir -p "$work/src"
  cp -a "$src/." "$work/src/"
  cd "$work/src"
  local ld="-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$CERT_MANAGER_VERSION"
  step "go build ./controller ./acmesolver"
  go build -mod=readonly "${TOOL_BUILD_FLAGS[@]}" -ldflags="$ld" -o "$out" ./controller
  go build -mod=readonly "${TOOL_BUILD_FLAGS[@]}" -ldflags="$ld" -o "$(dirname "$out")/cert-manager-acmesolver" ./acmesolver
}

# Pebble, Let's Encrypt's ACME test server, and its challenge test server
# (the lab's DNS for the ACME flow). Not slimmer: two small commands.
build_pebble() { # work out
  local work=$1 out=$2 m=github.com/letsencrypt/pebble/v2
  step "go install $m/cmd/pebble $m/cmd/pebble-challtestsrv @$PEBBLE_VERSION"
  mkdir -p "$work/gobin"
  GOBIN="$work/gobin" go install "${TOOL_BUILD_FLAGS[@]}" -ldflags="-s -w -X main.version=$PEBBLE_VERSION" \
    "$m/cmd/pebble@$PEBBLE_VERSION" "$m/cmd/pebble-challtestsrv@$PEBBLE_VERSION"
  mv "$work/gobin/pebble" "$out"
  mv "$work/gobin/pebble-challtestsrv" "$(dirname "$out")/pebble-challtestsrv"
}

# -- Argo CD and Gitea (the lab's GitOps flow) -----------------------------------
# Argo CD's servers as one multi-call binary, test/argocd/internal/argocd:
# upstream's application controller, repo-server, API server (for
# /api/webhook), cmp-server and git-ask-pass, under the name started (the
# symlinks beside it). Built in test/argocd itself, whose go.mod and go.sum
# already pin Argo CD's tree for the cmp-server tests; with go test's own
# flags (no -trimpath, no TOOL_BUILD_FLAGS), so that `go test` there finds
# the packages it shares in the build cache.
# Slimmer: no CLI, Dex, ApplicationSet, notification or commit server.
build_argocd() { # work out
  local work=$1 out=$2 src=$REPO_ROOT/test/argocd pinned n
  step "check test/argocd/go.mod requires argo-cd $ARGOCD_VERSION"
  pinned=$(awk '$1 == "github.com/argoproj/argo-cd/v3" { print $2 }' "$src/go.mod")
  [[ "$pinned" == "$ARGOCD_VERSION" ]] || die "test/argocd/go.mod requires argo-cd $pinned, the pin is $ARGOCD_VERSION"
  cd "$src"
  step "go build ./internal/argocd (GOTOOLCHAIN=$ARGOCD_GOTOOLCHAIN)"
  GOTOOLCHAIN=$ARGOCD_GOTOOLCHAIN go build -mod=readonly \
    -ldflags="-s -w -X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v}" \
    -o "$out" ./internal/argocd
  for n in $ARGOCD_NAMES; do ln -s argocd "$(dirname "$out")/$n"; done
}
ARGOCD_NAMES="argocd-application-controller argocd-repo-server argocd-server argocd-cmp-server argocd-git-ask-pass"

# Gitea without its frontend build (no `bindata` tag: the lab points
# STATIC_ROOT_PATH at the templates, options and public files kept beside
# the binary; the web UI is unstyled, the API, webhooks and git over HTTP
# are whole). Not slimmer: one program, and the lab uses its core.
build_gitea() { # work out
  local work=$1 out=$2
  step "copy code.gitea.io/gitea@$GITEA_VERSION"
  copy_module "code.gitea.io/gitea@$GITEA_VERSION" "$work/src"
  cd "$work/src"
  step "go build . (no bindata)"
  go build -mod=mod "${TOOL_BUILD_FLAGS[@]}" -ldflags="-s -w -X main.Version=${GITEA_VERSION#v}" -o "$out" .
  step "keep templates, options and public beside it"
  cp -a templates options public "$(dirname "$out")/"
}

build_promtail() { # work out
  local work=$1 out=$2 b=github.com/grafana/loki/v3/pkg/util/build
  step "copy github.com/grafana/loki/v3@$PROMTAIL_VERSION"
  copy_module "github.com/grafana/loki/v3@$PROMTAIL_VERSION" "$work/src"
  cd "$work/src"
  if grep -q '^replace github.com/grafana/loki/pkg/push' go.mod; then
    step "go mod edit -dropreplace=github.com/grafana/loki/pkg/push"
    go mod edit -dropreplace=github.com/grafana/loki/pkg/push
  fi
  step "go build ./clients/cmd/promtail"
  go build -mod=mod "${TOOL_BUILD_FLAGS[@]}" \
    -ldflags="-s -w -X $b.Version=${PROMTAIL_VERSION#v} -X $b.Branch=HEAD" \
    -o "$out" ./clients/cmd/promtail
}

# -- vault: slim build of the module source -----------------------------------
# Upstream's own `minimal` build tag (command/commands_min.go,
# helper/builtinplugins/registry_min.go) leaves out what no test touches:
#  - the addon plugin registry (database plugins; aws, azure, gcp, github,
#    ldap, okta, ... auth; aws, gcp, consul, nomad, ... secrets engines): the
#    tests mount only kv (v1, v2), transit, approle and kubernetes, and an
#    engine that is not linked can only make `secrets/auth enable X` fail,
#    which no test asks for;
#  - the addon storage backends (consul, s3, etcd, mysql, file, ...; inmem
#    and raft stay): `server -dev` always runs on inmem, the same upstream
#    code either way;
#  - the addon `vault login -method=` handlers (aws, gcp, ldap, ...): the
#    tests log in over the HTTP API or with tokens, never `vault login`.
# The minimal registry lacks the Kubernetes auth method the tests use
# (test/vaultk8s), so hack/patches/vault-v1.21.4-slim.patch adds that one
# entry back, the same upstream factory the full registry names. Vault core,
# the HTTP handlers, KV, transit, token, AppRole and Kubernetes auth, the dev
# server, seals and the CLI commands are the unmodified upstream code.
# Because api/ and sdk/ come from their published modules, three call sites
# are adjusted to them (below), as for the full build.
build_vault() { # work out
  local work=$1 out=$2 m
  local -a mods=(
    github.com/hashicorp/vault/api
    github.com/hashicorp/vault/api/auth/approle
    github.com/hashicorp/vault/api/auth/kubernetes
    github.com/hashicorp/vault/api/auth/userpass
    github.com/hashicorp/vault/sdk
  )
  step "copy github.com/hashicorp/vault@$VAULT_VERSION"
  copy_module "github.com/hashicorp/vault@$VAULT_VERSION" "$work/src"
  cd "$work/src"
  step "go mod edit -dropreplace (api, api/auth/*, sdk)"
  for m in "${mods[@]}"; do go mod edit -dropreplace="$m"; done
  if grep -q '=>[[:space:]]*\./' go.mod; then die "go.mod still has local replaces: $(grep '=>[[:space:]]*\./' go.mod)"; fi
  step "go mod download (api, api/auth/*, sdk)"
  go mod download "${mods[@]}"

  step "patch vault/identity_store.go (ActivationFunc takes an extra string)"
  patch_once vault/identity_store.go \
    '(ActivationFunc:\s*)iStore\.activateDeduplication,' \
    '"${1}func(ctx context.Context, req *logical.Request, _ string) error { return iStore.activateDeduplication(ctx, req) },"' \
    'identity_store ActivationFunc'
  step "patch vault/logical_system_activation_flags.go (ActivationFunc(ctx, nil, \"\"))"
  patch_once vault/logical_system_activation_flags.go \
    '\.ActivationFunc\(ctx, nil\)' \
    '".ActivationFunc(ctx, nil, \"\")"' \
    'logical_system_activation_flags ActivationFunc call'
  step "patch builtin/logical/transit/path_restore.go (RestorePolicy returns only error)"
  patch_once builtin/logical/transit/path_restore.go \
    'restoredKeyName, err := (b\.lm\.RestorePolicy\(ctx, req\.Storage, keyName, backupB64, force\))' \
    '"restoredKeyName := keyName\n\terr := $1"' \
    'transit RestorePolicy'

  step "patch: Kubernetes auth in the minimal plugin registry ($VAULT_RECIPE)"
  command -v patch >/dev/null 2>&1 || apt_install patch "$CACHE/.logs/apt-patch.log"
  patch -p1 --forward --batch --fuzz=0 <"$REPO_ROOT/hack/patches/vault-$VAULT_VERSION-slim.patch"

  step "go build -tags minimal ."
  go build -mod=mod "${TOOL_BUILD_FLAGS[@]}" -tags minimal -ldflags="-s -w" -o "$out" .
}

# -- minio: plain go install at a pinned pseudo-version ------------------------
# Not slimmer: MinIO is one server with no plugin registry or build tags for
# its parts; the tests use its S3 API, which is most of the code.
build_minio() { # work out
  local work=$1 out=$2
  step "go install github.com/minio/minio@$MINIO_VERSION"
  mkdir -p "$work/gobin"
  GOBIN="$work/gobin" go install "${TOOL_BUILD_FLAGS[@]}" -ldflags="-s -w" "github.com/minio/minio@$MINIO_VERSION"
  mv "$work/gobin/minio" "$out"
}

# -- vault-secrets-operator: the whole operator (one main; its controllers are
# what the lab needs: VaultConnection, VaultAuth, VaultStaticSecret and the
# rollout restarts). Not slimmer: there is no build tag to leave out the
# HCP, PKI and dynamic-secret controllers, and they cost only build time.
# Built inside a copy of its module zip: `go install module@version` also
# asks the proxy for the module's version list (for deprecations), which the
# proxy refuses (403) for this module.
build_vso() { # work out
  local work=$1 out=$2 m=github.com/hashicorp/vault-secrets-operator
  step "copy $m@$VSO_VERSION"
  copy_module "$m@$VSO_VERSION" "$work/src"
  cd "$work/src"
  step "go build $m@$VSO_VERSION"
  go build -mod=readonly "${TOOL_BUILD_FLAGS[@]}" \
    -ldflags="-s -w -X $m/internal/version.GitVersion=$VSO_VERSION" -o "$out" .
}

# -- alloy: slim build, only the components loki-cmp renders ------------------
# The component set comes from the generator (hack/alloycomponents renders
# every example), never from a list kept here; it is part of the cache key, so
# a changed set rebuilds, and it is stored as components.txt next to the
# binary, where test/validation checks it against the rendered configs.
ALLOY_COMPONENTS=""   # set by tool_alloy, one name a line, sorted

# Upstream registers every component through blank imports in
# internal/component/all/all.go; write one that imports only the packages of
# ALLOY_COMPONENTS. A name's package is the directory whose component.Register
# call has that Name and that upstream all.go imports; none or several: fail.
alloy_write_all_go() { # file (internal/component/all/all.go)
  local file=$1 name files dirs
  local -a pkgs=()
  for name in $ALLOY_COMPONENTS; do
    [[ "$name" =~ ^[a-z0-9_]+(\.[a-z0-9_]+)+$ ]] || die "not a component name: '$name'"
    files=$(grep -rlE --include='*.go' --exclude='*_test.go' "Name:[[:space:]]*\"${name//./\\.}\"," internal/component || true)
    dirs=$(for f in $files; do grep -q 'component\.Register(' "$f" && dirname "$f"; done | sort -u)
    [[ -n "$dirs" ]] || die "component $name: no package under internal/component registers it"
    [[ $(wc -l <<<"$dirs") == 1 ]] || die "component $name: registered by several packages: $dirs"
    grep -qF "\"github.com/grafana/alloy/$dirs\"" "$file" || die "component $name: $dirs is not imported by upstream $file"
    printf '%s -> %s\n' "$name" "$dirs"
    pkgs+=("github.com/grafana/alloy/$dirs")
  done
  [[ ${#pkgs[@]} -gt 0 ]] || die "no component selected"
  {
    echo "// Package all imports the component packages of this slim build (written by"
    echo "// loki-cmp's hack/test-tools.sh from hack/alloycomponents)."
    echo "package all"
    echo
    echo "import ("
    printf '\t_ "%s"\n' $(printf '%s\n' "${pkgs[@]}" | sort -u)
    echo ")"
  } >"$file"
  cat "$file"
}

build_alloy() { # work out
  local work=$1 out=$2
  step "copy github.com/grafana/alloy@$ALLOY_VERSION"
  copy_module "github.com/grafana/alloy@$ALLOY_VERSION" "$work/src"
  cd "$work/src"
  step "go mod edit (syntax@$ALLOY_SYNTAX_VERSION)"
  go mod edit -dropreplace=github.com/grafana/alloy/syntax
  go mod edit -require="github.com/grafana/alloy/syntax@$ALLOY_SYNTAX_VERSION"
  step "select components: internal/component/all/all.go"
  alloy_write_all_go internal/component/all/all.go
  # Cuts outside the components, none on the code path of `alloy validate`
  # or `alloy run` for an Alloy-syntax config (the only kind loki-cmp
  # renders and the tests feed it); see the patch for each hunk:
  # - main.go: the blank imports that register Prometheus service discovery
  #   and static-mode integrations for the YAML converters; the discovery.*
  #   components import the Prometheus discoverers they use themselves.
  # - converter.go: `alloy convert` and --config.format=prometheus|promtail|
  #   static|otelcol (which link the OTel Collector, Promtail and static-mode
  #   trees) now fail with a critical diagnostic; the default format alloy
  #   never calls the converter.
  # - `alloy tools` (prometheus.remote_write WAL tools): its import would
  #   register prometheus.remote_write, a component outside the set.
  step "patch: hack/patches/alloy-$ALLOY_VERSION-slim.patch"
  patch -p1 --forward --no-backup-if-mismatch <"$REPO_ROOT/hack/patches/alloy-$ALLOY_VERSION-slim.patch"
  step "remove internal/alloycli/cmd_tools.go (alloy tools)"
  rm internal/alloycli/cmd_tools.go
  printf '%s\n' "$ALLOY_COMPONENTS" >"$(dirname "$out")/components.txt"
  # Static like the rest: cgo was needed only by the Oracle driver
  # (github.com/godror/godror) of a component this build leaves out.
  step "go build . (static)"
  go build -mod=mod "${TOOL_BUILD_FLAGS[@]}" \
    -ldflags="-s -w -X github.com/grafana/alloy/internal/build.Version=$ALLOY_VERSION" \
    -o "$out" .
}

tool_kube-apiserver() { ensure_go kube-apiserver "$KUBE_VERSION" build_kube_apiserver "--version" "$KUBE_VERSION"; }
tool_kube-controller-manager() { ensure_go kube-controller-manager "$KUBE_VERSION" build_kube_controller_manager "--version" "$KUBE_VERSION"; }
tool_kube-scheduler() { ensure_go kube-scheduler "$KUBE_VERSION" build_kube_scheduler "--version" "$KUBE_VERSION"; }
tool_kwok() { ensure_go kwok "$KWOK_VERSION" build_kwok "--version" "${KWOK_VERSION#v}"; }
tool_promtail() { ensure_go promtail "$PROMTAIL_VERSION" build_promtail "-version" "${PROMTAIL_VERSION#v}"; }
tool_prometheus() { ensure_go prometheus "$PROMETHEUS_VERSION" build_prometheus "--version" "version ${PROMETHEUS_VERSION#v}"; }
tool_prometheus-operator() {
  ensure_go prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" build_prometheus_operator "--short-version" "${PROMETHEUS_OPERATOR_VERSION#v}"
  tool_companion prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" prometheus-config-reloader "--version" "${PROMETHEUS_OPERATOR_VERSION#v}"
}
# Each builds a second program beside the first: checked and linked here.
tool_companion() { # tool version companion 'verify args' want
  CUR_STEP="verify $3"
  verify_go "$CACHE/$1-$2/$3" "$4" "$5" quiet || die "$3 beside $1 does not run '$4' (or does not report $5)"
  link_bin "$3" "../$1-$2/$3"
}
tool_cert-manager() {
  ensure_go cert-manager "$CERT_MANAGER_VERSION" build_cert_manager "--version" "$CERT_MANAGER_VERSION"
  tool_companion cert-manager "$CERT_MANAGER_VERSION" cert-manager-acmesolver "--version" "$CERT_MANAGER_VERSION"
}
tool_pebble() {
  ensure_go pebble "$PEBBLE_VERSION" build_pebble "-version" "$PEBBLE_VERSION"
  tool_companion pebble "$PEBBLE_VERSION" pebble-challtestsrv "-h" ""
}
# The cache directory names a hash of the main and go.sum: a change to
# either (a new command, another dependency) builds again.
tool_argocd() {
  local h n
  CUR_TOOL=argocd
  h=$(cat "$REPO_ROOT/test/argocd/internal/argocd/main.go" "$REPO_ROOT/test/argocd/go.sum" | sha256sum | cut -c1-12)
  ensure_go argocd "$ARGOCD_VERSION-$h" build_argocd "version" "argocd $ARGOCD_VERSION"
  for n in $ARGOCD_NAMES; do link_bin "$n" "../argocd-$ARGOCD_VERSION-$h/$n"; done
}
# The version is set as upstream's release builds set it (-X GitVersion).
tool_vault-secrets-operator() {
  ensure_go vault-secrets-operator "$VSO_VERSION" build_vso "-version" "GitVersion:\"$VSO_VERSION\""
}
tool_gitea() { ensure_go gitea "$GITEA_VERSION" build_gitea "--version" "version ${GITEA_VERSION#v}"; }
tool_traefik() { ensure_go traefik "$TRAEFIK_VERSION" build_traefik "version" "$TRAEFIK_VERSION"; }
tool_loki()  { ensure_go loki  "$LOKI_VERSION"  build_loki  "-version" "${LOKI_VERSION#v}"; }
tool_vault() { ensure_go vault "$VAULT_VERSION-$VAULT_RECIPE" build_vault "version" "$VAULT_VERSION"; }
# minio: a go-installed build reports "DEVELOPMENT.GOGET", so the pin is
# checked by the cache directory name alone.
tool_minio() { ensure_go minio "$MINIO_VERSION" build_minio "--version" ""; }
tool_alloy() {
  local h
  CUR_TOOL=alloy
  step "go run ./hack/alloycomponents (components loki-cmp renders)"
  ALLOY_COMPONENTS=$(cd "$REPO_ROOT" && go run ./hack/alloycomponents) || die "go run ./hack/alloycomponents failed"
  [[ -n "$ALLOY_COMPONENTS" ]] || die "hack/alloycomponents printed no component"
  h=$(printf '%s\n' "$ALLOY_COMPONENTS" | sha256sum | cut -c1-12)
  ensure_go alloy "$ALLOY_VERSION-slim-$h" build_alloy "--version" "$ALLOY_VERSION"
}

# ---- main ---------------------------------------------------------------------
usage() {
  cat >&2 <<EOF
usage: $0 [tool ...]     build/install tools (default: all)
       $0 --print-bin   print the bin directory ($BIN)
       $0 --list        print tool names and pinned versions
tools: ${ALL_TOOLS[*]}
  (aliases: apt, apache2-utils, etcd-server, prometheus-config-reloader,
   cert-manager-acmesolver, pebble-challtestsrv, redis-server,
   argocd-application-controller, argocd-repo-server, argocd-server,
   argocd-cmp-server)
EOF
}

main() {
  local -a want=()
  local a t
  for a in "$@"; do
    case "$a" in
      --print-bin) printf '%s\n' "$BIN"; return 0 ;;
      --list)
        printf '%s\n' "htpasswd apt:apache2-utils" "etcd apt:etcd-server" "buildah apt:buildah" \
          "openssl apt:openssl" "kube-apiserver $KUBE_VERSION" "loki $LOKI_VERSION" \
          "vault $VAULT_VERSION-$VAULT_RECIPE" "minio $MINIO_VERSION" "alloy $ALLOY_VERSION" \
          "kube-controller-manager $KUBE_VERSION" "kube-scheduler $KUBE_VERSION" \
          "kwok $KWOK_VERSION" "traefik $TRAEFIK_VERSION" "promtail $PROMTAIL_VERSION" \
          "prometheus $PROMETHEUS_VERSION" "prometheus-operator $PROMETHEUS_OPERATOR_VERSION" \
          "cert-manager $CERT_MANAGER_VERSION" "pebble $PEBBLE_VERSION" \
          "redis apt:redis-server" "argocd $ARGOCD_VERSION" "gitea $GITEA_VERSION" \
          "vault-secrets-operator $VSO_VERSION"
        return 0 ;;
      -h|--help) usage; return 0 ;;
      all) want+=("${ALL_TOOLS[@]}") ;;
      apt) want+=("${APT_TOOLS[@]}") ;;
      apache2-utils) want+=(htpasswd) ;;
      etcd-server) want+=(etcd) ;;
      redis-server) want+=(redis) ;;
      argocd-application-controller|argocd-repo-server|argocd-server|argocd-cmp-server) want+=(argocd) ;;
      htpasswd|etcd|buildah|openssl|redis|argocd|gitea|kube-apiserver|loki|vault|minio|alloy) want+=("$a") ;;
      kube-controller-manager|kube-scheduler|kwok|traefik|promtail) want+=("$a") ;;
      prometheus|prometheus-operator) want+=("$a") ;;
      prometheus-config-reloader) want+=(prometheus-operator) ;;
      cert-manager|pebble|vault-secrets-operator) want+=("$a") ;;
      cert-manager-acmesolver) want+=(cert-manager) ;;
      pebble-challtestsrv) want+=(pebble) ;;
      *) usage; printf 'test-tools: ERROR: unknown tool %q\n' "$a" >&2; exit 2 ;;
    esac
  done
  [[ ${#want[@]} -gt 0 ]] || want=("${ALL_TOOLS[@]}")
  mkdir -p "$CACHE" "$BIN"
  local done_list=" "
  local -a gowant=()
  for t in "${want[@]}"; do
    [[ "$done_list" == *" $t "* ]] && continue
    done_list+="$t "
    if [[ " ${GO_TOOLS[*]} " == *" $t "* ]]; then gowant+=("$t"); else "tool_$t"; fi
  done
  [[ ${#gowant[@]} -gt 0 ]] || return 0
  command -v go >/dev/null 2>&1 || { printf 'test-tools: ERROR: go not found on PATH\n' >&2; exit 1; }
  if [[ "$JOBS" -le 1 || ${#gowant[@]} -eq 1 ]]; then
    for t in "${gowant[@]}"; do "tool_$t"; done
    return 0
  fi
  run_lanes "${gowant[@]}"
}

# Cold builds in lanes that run at the same time: a lone Go build leaves
# cores idle while it downloads modules and while the (mostly serial) linker
# runs, and a second build fills those gaps. On 2 cores the gain is small
# (both stay busy, the builds are CPU-bound); with more cores it grows.
# Tools go to lanes longest first (LPT), weighted by cold build minutes
# from earlier cold runs (vault, alloy: the slim builds' CPU minutes over 2
# cores). With these the cold run of 2026-12-01 had lanes of 1,425 s and
# 1,480 s (see the top): balanced, so they stay.
declare -A COST=([vault]=7 [loki]=15 [kube-apiserver]=10 [minio]=8 [alloy]=7 [traefik]=14 [kube-controller-manager]=5 [kube-scheduler]=1 [kwok]=5 [promtail]=8 [prometheus]=8 [prometheus-operator]=5 [cert-manager]=4 [pebble]=1 [argocd]=9 [gitea]=8 [vault-secrets-operator]=4)
run_lanes() { # tool...
  local -a lanes=() load=() pids=() sorted
  local i t best rc=0
  mapfile -t sorted < <(for t in "$@"; do printf '%s %s\n' "${COST[$t]:-5}" "$t"; done | sort -rn | cut -d' ' -f2)
  for ((i = 0; i < JOBS; i++)); do lanes[i]=""; load[i]=0; done
  for t in "${sorted[@]}"; do
    best=0
    for ((i = 1; i < JOBS; i++)); do ((load[i] < load[best])) && best=$i; done
    lanes[best]+="$t "
    load[best]=$((load[best] + ${COST[$t]:-5}))
  done
  for ((i = 0; i < JOBS; i++)); do
    [[ -n "${lanes[i]}" ]] || continue
    say "lane $((i + 1)): ${lanes[i]}"
    # A subshell does not inherit the EXIT trap: set it again so that a
    # failed build still removes its scratch directory.
    ( trap on_exit EXIT; for t in ${lanes[i]}; do "tool_$t"; done ) &
    pids+=($!)
  done
  IN_PARENT_WAIT=1
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  IN_PARENT_WAIT=0
  [[ $rc -eq 0 ]] || { say "ERROR: a tool build failed (see the lines above)"; exit 1; }
}

main "$@"
