"""Make a rendered GX Data Docs site work offline: every asset local.

GX 1.24's page templates load bootstrap, jquery, bootstrap-table, font-awesome, ...
from CDNs and the logo from S3 (with the data context id appended), and its site
builder has no setting for local static assets (only `base_directory` is a
supported key, and custom views cannot override the built-in templates). So after
`build_data_docs` the gate copies the vendored files (`data_docs_assets/vendor/`,
fetched from the npm registry by `data_docs_assets/vendor.sh`) into the site's
`static/vendor/` and rewrites each page's CDN URLs to relative paths.

vega, vega-lite and vega-embed are only needed by pages that draw a chart
(`vegaEmbed(`); none of our expectations renders one, so their script tags are
dropped, and `external_assets` (what the tests check) would report them otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
from importlib.resources import files
from pathlib import Path

# package data of opsledger.expectations (a folder in the wheel, or the checkout's)
VENDOR_DIR = Path(str(files("opsledger.expectations"))) / "data_docs_assets" / "vendor"
SITE_VENDOR = Path("static") / "vendor"

# CDN URL (as GX's templates write it) -> file under data_docs_assets/vendor/
CDN_FILES: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/bootstrap.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/bootstrap-table.min.js"
    ),
    # the templates ask for 1.19.0 of the filter-control css, minified or not
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table/bootstrap-table-filter-control.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": ("bootstrap-datepicker/bootstrap-datepicker.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": ("bootstrap-datepicker/bootstrap-datepicker.min.js"),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": ("bootstrap-dark/bootstrap-prefers-dark.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome/css/all.min.css"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper/popper.min.js"
    ),
}
# GX's logos on S3 -> the copies GX itself ships in the site's static/images/
S3_IMAGES = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/"
    r"(logo-long\.png|full_logo_dark\.png)(\?[^\"')\s]*)?"
)
VEGA_SCRIPT = re.compile(
    r'<script src="https://cdn\.jsdelivr\.net/npm/vega[a-z-]*@\d+"></script>\n?'
)
# GX's own static files, referenced relative to the page; its favicon path on
# validation pages is one level short, so every such path is re-rooted
STATIC_PATH = re.compile(r"(?<=[\"'(])(?:\./|(?:\.\./)+)static/(images|styles|fonts)/")
# subresource integrity and CORS mode break file:// loads (an opaque origin)
SRI_ATTRIBUTES = re.compile(r'\s+(integrity="[^"]*"|crossorigin="[^"]*")')

# what a page loads: <script src>, <link href>, <img src>, CSS url(...)
ASSET_REFERENCE = re.compile(
    r"<script[^>]*\ssrc=[\"']([^\"']+)[\"']"
    r"|<link[^>]*\shref=[\"']([^\"']+)[\"']"
    r"|<img[^>]*\ssrc=[\"']([^\"']+)[\"']"
    r"|url\(\s*[\"']?([^\"')]+)[\"']?\s*\)",
    re.IGNORECASE,
)


def asset_references(text: str) -> list[str]:
    """Every asset a page or stylesheet loads (scripts, stylesheets, images, fonts)."""
    return [next(g for g in m.groups() if g) for m in ASSET_REFERENCE.finditer(text)]


def external_assets(text: str) -> list[str]:
    return [ref for ref in asset_references(text) if re.match(r"(https?:)?//", ref)]


def _localize_page(text: str, to_root: str) -> str:
    for url, local in CDN_FILES.items():
        text = text.replace(url, f"{to_root}{SITE_VENDOR.as_posix()}/{local}")
    # GX ships logo-long.png in static/images; the dark-mode logo has no local copy
    text = S3_IMAGES.sub(lambda m: f"{to_root}static/images/logo-long.png", text)
    text = STATIC_PATH.sub(lambda m: f"{to_root}static/{m.group(1)}/", text)
    if "vegaEmbed(" not in text:
        text = VEGA_SCRIPT.sub("", text)
    return SRI_ATTRIBUTES.sub("", text)


def localize_site(site_dir: Path) -> list[Path]:
    """Copy the vendored assets into the site and point every page (and GX's own
    stylesheets) at them; returns the files rewritten."""
    site_dir = Path(site_dir)
    pages = sorted([*site_dir.rglob("*.html"), *(site_dir / "static" / "styles").glob("*.css")])
    shutil.copytree(VENDOR_DIR, site_dir / SITE_VENDOR, dirs_exist_ok=True)
    for page in pages:
        rel = os.path.relpath(site_dir, page.parent)
        to_root = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        text = page.read_text(encoding="utf-8")
        page.write_text(_localize_page(text, to_root), encoding="utf-8")
    return pages
