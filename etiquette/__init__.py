"""etiquette: an offline checker for recorded debt-collection calls."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("etiquette")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
