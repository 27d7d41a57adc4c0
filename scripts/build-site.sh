#!/usr/bin/env bash
# Builds the browser half of Faultline into $SITE (default target/site):
#   the hydrate crate for wasm32 -> wasm-bindgen -> wasm-opt -> content-hashed names,
#   gzip copies for precompressed serving, the stylesheet and public/ files,
#   and asset-manifest.json, which tells the server the hashed names.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=${SITE:-target/site}
PROFILE=${WASM_PROFILE:-wasm-release}
WASM_OPT=${WASM_OPT:-end2end/node_modules/.bin/wasm-opt}

cargo build --quiet -p frontend --lib --target wasm32-unknown-unknown --profile "$PROFILE"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$stage" --out-name faultline \
  "$TARGET_DIR/wasm32-unknown-unknown/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/frontend.wasm"
if [ "$PROFILE" = wasm-release ]; then
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$stage/faultline_bg.wasm" -o "$stage/faultline.wasm"
else
  mv "$stage/faultline_bg.wasm" "$stage/faultline.wasm"
fi
cp style/faultline.css "$stage/faultline.css"

hashed() { # FILE EXT -> prints the content-hashed name
  printf 'faultline.%s.%s' "$(sha256sum "$1" | cut -c1-16)" "$2"
}

rm -rf "$SITE.new"
mkdir -p "$SITE.new/pkg"
js=$(hashed "$stage/faultline.js" js)
wasm=$(hashed "$stage/faultline.wasm" wasm)
css=$(hashed "$stage/faultline.css" css)
cp "$stage/faultline.js" "$SITE.new/pkg/$js"
cp "$stage/faultline.wasm" "$SITE.new/pkg/$wasm"
cp "$stage/faultline.css" "$SITE.new/pkg/$css"
[ -d "$stage/snippets" ] && cp -r "$stage/snippets" "$SITE.new/pkg/"
for f in "$SITE.new/pkg/$js" "$SITE.new/pkg/$wasm" "$SITE.new/pkg/$css"; do
  gzip -9 -k -n "$f"
done
cp -r public/. "$SITE.new/"
printf '{"js":"%s","wasm":"%s","css":"%s"}\n' "$js" "$wasm" "$css" >"$SITE.new/asset-manifest.json"

# Swap in the new site at once so a running server never sees a half-written one.
rm -rf "$SITE.old"
[ -d "$SITE" ] && mv "$SITE" "$SITE.old"
mv "$SITE.new" "$SITE"
rm -rf "$SITE.old"

printf 'site: %s (wasm %s bytes, %s bytes gzipped)\n' "$SITE" \
  "$(stat -c %s "$SITE/pkg/$wasm")" "$(stat -c %s "$SITE/pkg/$wasm.gz")" >&2
