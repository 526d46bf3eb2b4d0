#!/usr/bin/env bash
# release.sh builds the jiralinkd release binaries:
#
#   dist/jiralinkd-linux-amd64
#   dist/jiralinkd-linux-arm64
#   dist/SHA256SUMS
#
# The binaries are static (CGO_ENABLED=0), built with -trimpath and stamped
# with the version (-X main.version), so `jiralinkd version` names the
# release. The script then checks that the amd64 binary reports that version
# (by running it on a linux/amd64 host, otherwise from its build information)
# and that the checksums verify.
#
# Environment:
#   VERSION  version to stamp; default: git describe --tags --always --dirty
#            (or "dev" outside a Git checkout)
#   DIST     output directory, relative to the repository root; default: dist
#   GO       Go command; default: go
#
# Usage: scripts/release.sh        (or: make release)
set -euo pipefail

cd "$(dirname "$0")/.."

GO=${GO:-go}
DIST=${DIST:-dist}
PLATFORMS=(linux/amd64 linux/arm64)

if [[ -z "${VERSION:-}" ]]; then
	VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
fi
# The version ends up inside -ldflags: refuse anything that would split it
# into several linker arguments or look odd in `jiralinkd version`.
if [[ ! "$VERSION" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]]; then
	echo "release: VERSION must match [A-Za-z0-9][A-Za-z0-9._+-]*, got '$VERSION'" >&2
	exit 2
fi

if command -v sha256sum >/dev/null 2>&1; then
	sha256() { sha256sum "$@"; }
elif command -v shasum >/dev/null 2>&1; then
	sha256() { shasum -a 256 "$@"; }
else
	echo "release: need sha256sum or shasum" >&2
	exit 2
fi

mkdir -p "$DIST"
# Remove only what this script produces: DIST may hold other files.
rm -f "$DIST"/jiralinkd-linux-* "$DIST/SHA256SUMS"

echo "release: jiralinkd $VERSION"
names=()
for platform in "${PLATFORMS[@]}"; do
	os=${platform%/*}
	arch=${platform#*/}
	name="jiralinkd-$os-$arch"
	echo "release: building $DIST/$name"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath \
		-ldflags "-s -w -X main.version=$VERSION" \
		-o "$DIST/$name" ./cmd/jiralinkd
	names+=("$name")
done

(cd "$DIST" && sha256 "${names[@]}" >SHA256SUMS && sha256 -c SHA256SUMS >/dev/null)
echo "release: wrote $DIST/SHA256SUMS"

# Check the stamped version of the amd64 binary.
bin="$DIST/jiralinkd-linux-amd64"
want="jiralinkd $VERSION"
if [[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]]; then
	got=$("$bin" version)
	if [[ "$got" != "$want" ]]; then
		echo "release: $bin version printed '$got', want '$want'" >&2
		exit 1
	fi
	echo "release: $bin version: $got"
else
	# Cannot run it here. -trimpath keeps -ldflags out of the build
	# information, so look for the stamped string in the binary instead.
	if ! grep -aqF -- "$VERSION" "$bin"; then
		echo "release: $bin is not stamped with main.version=$VERSION" >&2
		exit 1
	fi
	echo "release: $bin is stamped with version $VERSION (not run: host is not linux/amd64)"
fi
# Static: built with cgo off, so no dynamic loader or libc is needed.
for name in "${names[@]}"; do
	if ! "$GO" version -m "$DIST/$name" | grep -E '^[[:space:]]*build[[:space:]]+CGO_ENABLED=0$' >/dev/null; then
		echo "release: $DIST/$name was not built with CGO_ENABLED=0" >&2
		exit 1
	fi
done

echo "release: done"
(cd "$DIST" && ls -l "${names[@]}" SHA256SUMS)
