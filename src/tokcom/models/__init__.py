"""Weight registry (convention 11): every named weight set declared once, with sources, sha256, licence.

The store (fetching, verifying, converting, the cache) is :mod:`tokcom.models.store`; the built-in
declarations and their converters are :mod:`tokcom.models.catalog`, registered into ``WEIGHTS`` when this
package is imported. Importing it imports neither torch nor safetensors.
"""

from __future__ import annotations

from tokcom.models import catalog as _catalog  # noqa: F401  (registers the built-in weight sets)
from tokcom.models.store import (
    WEIGHTS,
    Component,
    HubSource,
    PipSource,
    WeightSet,
    cache_dir,
    fetch,
    fetch_command,
    fetch_many,
    is_cached,
    list_weight_sets,
    load_state_dict,
    path,
    sha256_file,
    weights_path,
)

__all__ = [
    "WEIGHTS",
    "Component",
    "HubSource",
    "PipSource",
    "WeightSet",
    "cache_dir",
    "fetch",
    "fetch_command",
    "fetch_many",
    "is_cached",
    "list_weight_sets",
    "load_state_dict",
    "path",
    "sha256_file",
    "weights_path",
]
