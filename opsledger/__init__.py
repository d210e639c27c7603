"""opsledger: operational intelligence warehouse for ecommerce."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opsledger")  # one version: pyproject.toml's, as installed
except PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0+unknown"
