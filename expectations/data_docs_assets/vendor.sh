#!/usr/bin/env bash
# Re-vendor the front-end files Great Expectations' Data Docs templates load from
# CDNs (GX 1.24's render/view/templates), from the npm registry, so the docs render
# offline. Only the minified files the pages use are kept, with each package's
# licence. expectations/data_docs.py rewrites the CDN URLs to these copies.
#   bash expectations/data_docs_assets/vendor.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

unpack() {  # unpack <npm spec> <folder>
    local tarball
    tarball="$(npm pack "$1" --silent | tail -1)"
    mkdir -p "$2" && tar xzf "$tarball" -C "$2" --strip-components 1
}

rm -rf "$out" && mkdir -p "$out"
unpack bootstrap@4.3.1 bootstrap
unpack bootstrap-table@1.19.1 bootstrap-table
unpack bootstrap-datepicker@1.9.0 bootstrap-datepicker
unpack @forevolve/bootstrap-dark@1.1.0 bootstrap-dark
unpack @fortawesome/fontawesome-free@6.6.0 fontawesome
unpack jquery@3.7.1 jquery
unpack popper.js@1.12.9 popper

mkdir -p "$out"/{bootstrap,bootstrap-table,bootstrap-datepicker,bootstrap-dark,fontawesome/css,fontawesome/webfonts,jquery,popper}
cp bootstrap/dist/css/bootstrap.min.css bootstrap/dist/js/bootstrap.min.js bootstrap/LICENSE "$out/bootstrap/"
cp bootstrap-table/dist/bootstrap-table.min.css bootstrap-table/dist/bootstrap-table.min.js \
   bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css \
   bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js \
   bootstrap-table/LICENSE "$out/bootstrap-table/"
cp bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css \
   bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js bootstrap-datepicker/LICENSE \
   "$out/bootstrap-datepicker/"
cp bootstrap-dark/dist/css/bootstrap-prefers-dark.min.css bootstrap-dark/LICENSE "$out/bootstrap-dark/"
cp fontawesome/LICENSE.txt "$out/fontawesome/"
cp fontawesome/webfonts/*.woff2 "$out/fontawesome/webfonts/"
# every browser that runs bootstrap 4 reads woff2: drop the .ttf fallbacks (~700 KB)
sed -E 's#,url\(\.\./webfonts/[a-z0-9-]+\.ttf\) format\("truetype"\)##g' \
    fontawesome/css/all.min.css >"$out/fontawesome/css/all.min.css"
cp jquery/dist/jquery.min.js jquery/LICENSE.txt "$out/jquery/"
# popper.js 1.x ships no licence file; its header names the MIT licence
cp popper/dist/umd/popper.min.js "$out/popper/"
sed -i '/sourceMappingURL/d' "$out"/*/*.js
du -sh "$out"
