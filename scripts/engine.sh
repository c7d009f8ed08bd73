#!/usr/bin/env bash
# Builds the Pulumi engine this project runs under from Go modules (engine/*/go.mod), into .tools/bin:
#   pulumi                          the CLI (engine/cli)
#   pulumi-language-nodejs          the Node.js language host (engine/nodejs)
#   pulumi-resource-pulumi-nodejs   the launcher of Node.js dynamic providers (PackagecloudPackage,
#                                   PipelineStep), which the CLI's own release ships beside it
# For offline machines and CI; elsewhere install the Pulumi CLI the usual way. Skips the build when the
# binaries there were built from the same go.mod/go.sum, and copies them from this machine's cache
# (RALPH_RELEASE_ENGINE_CACHE, default ~/.cache/ralph-release/engine) when another checkout built them. No download is attempted at run time: use
# scripts/engine-env.sh (or the variables it prints) to run them.
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE=engine
BIN=.tools/bin
STAMP=.tools/engine.stamp

# The Node.js language host has no release tags, only pseudo-versions, and the checksum database has
# no entry for its commit: go.sum (committed) is what pins its bytes.
export GONOSUMDB=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs
export GOFLAGS="${GOFLAGS:-} -mod=mod"

fingerprint=$(cat "$ENGINE"/*/go.mod "$ENGINE"/*/go.sum scripts/engine.sh | sha256sum | cut -d' ' -f1)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$fingerprint" && -x "$BIN/pulumi" && -x "$BIN/pulumi-language-nodejs" ]]; then
  echo "engine: up to date in $BIN ($("$BIN/pulumi" version))" >&2
  exit 0
fi

CACHE=${RALPH_RELEASE_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ralph-release/engine}/$fingerprint
mkdir -p "$BIN"
if [[ -x "$CACHE/pulumi" && -x "$CACHE/pulumi-language-nodejs" && -x "$CACHE/pulumi-resource-pulumi-nodejs" ]]; then
  cp "$CACHE"/pulumi "$CACHE"/pulumi-language-nodejs "$CACHE"/pulumi-resource-pulumi-nodejs "$BIN/"
  echo "$fingerprint" > "$STAMP"
  echo "engine: copied from $CACHE ($("$BIN/pulumi" version))" >&2
  exit 0
fi

version_of() { (cd "$ENGINE/$1" && go list -m -f '{{.Version}}' "$2"); }
build() { # <module dir> <package> <output> <version stamped in>
  echo "engine: building $3 ($4)" >&2
  local started=$SECONDS
  (cd "$ENGINE/$1" && go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$4" \
    -o "../../$BIN/$3" "$2")
  echo "engine: $3 built in $((SECONDS - started)) s" >&2
}

cli_version=$(version_of cli github.com/pulumi/pulumi/pkg/v3)
host_version=$(version_of nodejs github.com/pulumi/pulumi/sdk/v3)
build cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi pulumi "$cli_version"
build nodejs github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 pulumi-language-nodejs "$host_version"

# What the CLI's release ships as sdk/nodejs/dist/pulumi-resource-pulumi-nodejs: the provider of
# dynamic resources is @pulumi/pulumi's own script, found from the program's directory.
cat > "$BIN/pulumi-resource-pulumi-nodejs" <<'LAUNCHER'
#!/bin/sh
script=$(node -e "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))") || exit 1
exec node "$script" "$@"
LAUNCHER
chmod +x "$BIN/pulumi-resource-pulumi-nodejs"

# A whole copy, then a rename: a run stopped half-way leaves no cache entry that looks complete.
mkdir -p "$(dirname "$CACHE")"
partial=$(mktemp -d "$CACHE.partial.XXXXXX")
cp "$BIN"/pulumi "$BIN"/pulumi-language-nodejs "$BIN"/pulumi-resource-pulumi-nodejs "$partial/"
rm -rf "$CACHE" && mv "$partial" "$CACHE"

echo "$fingerprint" > "$STAMP"
echo "engine: ready in $BIN ($("$BIN/pulumi" version))" >&2
