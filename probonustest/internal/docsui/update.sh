#!/usr/bin/env bash
# Replaces the embedded Swagger UI and ReDoc with the given npm releases:
#   probonustest/internal/docsui/update.sh SWAGGER_UI_VERSION REDOC_VERSION
# (npm view swagger-ui-dist version; npm view redoc version). It keeps only the files the pages
# load, gzipped (-9n: no name, no time, so a rerun writes the same bytes), their licences beside
# them, and SHA256SUMS of the files as npm ships them; then edit the versions in README.md, run
# the tests and `make browser-test`.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 SWAGGER_UI_VERSION REDOC_VERSION" >&2; exit 2; }
dir="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$1" "redoc@$2" >/dev/null)
mkdir "$tmp/swagger-ui" "$tmp/redoc"
tar xzf "$tmp/swagger-ui-dist-$1.tgz" -C "$tmp/swagger-ui" --strip-components=1
tar xzf "$tmp/redoc-$2.tgz" -C "$tmp/redoc" --strip-components=1

rm -rf "$dir/swagger-ui" "$dir/redoc"
mkdir "$dir/swagger-ui" "$dir/redoc"
for f in swagger-ui-bundle.js swagger-ui.css; do
  gzip -9nc "$tmp/swagger-ui/$f" >"$dir/swagger-ui/$f.gz"
done
cp "$tmp/swagger-ui/LICENSE" "$tmp/swagger-ui/NOTICE" "$tmp/swagger-ui/swagger-ui-bundle.js.LICENSE.txt" "$dir/swagger-ui/"
gzip -9nc "$tmp/redoc/bundles/redoc.standalone.js" >"$dir/redoc/redoc.standalone.js.gz"
cp "$tmp/redoc/LICENSE" "$dir/redoc/"
(cd "$tmp" && sha256sum "swagger-ui-dist-$1.tgz" "redoc-$2.tgz" \
  swagger-ui/swagger-ui-bundle.js swagger-ui/swagger-ui.css redoc/bundles/redoc.standalone.js) |
  sed 's#redoc/bundles/#redoc/#' >"$dir/SHA256SUMS"
echo "swagger-ui-dist $1, redoc $2: now set the versions in $dir/README.md"
