"""What every storage driver answers: a container's layers, top first, and what is broken.

A driver is a small class behind ``Driver``; it reads the driver's own metadata under the
data root and never raises for a missing or inconsistent piece: it records a
``LayerFact`` and goes on, so that checks can explain the failure the engine will hit.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.docker.models import Container
    from analyzer.snapshot.confine import Root


class WhiteoutFormat(enum.Enum):
    """How a layer marks a deleted path and a directory that hides what lies below.

    OVERLAY: a character device 0/0 deletes; ``trusted.overlay.opaque=y`` (or
    ``user.overlay.opaque`` for rootless and fuse-overlayfs) makes a directory opaque.
    AUFS: a ``.wh.<name>`` entry deletes ``<name>``; ``.wh..wh..opq`` makes its directory
    opaque (the format Docker's tar layers also use).
    """

    OVERLAY = "overlay"
    AUFS = "aufs"


class LayerRole(enum.Enum):
    """What a layer is to the container."""

    UPPER = "upper"
    INIT = "init"
    IMAGE = "image"


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of a container's stack.

    ``root`` is the folder holding the layer's files (``overlay2/<id>/diff``), or None when
    it is missing; ``path`` is that folder relative to the data root, for people and scripts.
    """

    role: LayerRole
    id: str
    path: bytes
    root: Root | None
    chain_id: str = ""
    short_link: str = ""


class FactCode(enum.Enum):
    """The kinds of layer trouble a driver can record."""

    LAYER_DIR_MISSING = "layer_dir_missing"
    DIFF_MISSING = "diff_missing"
    LINK_MISSING = "l_link_missing"
    LINK_WRONG = "l_link_wrong"
    LINK_FILE_EMPTY = "link_file_empty"
    LOWER_FILE_EMPTY = "lower_file_empty"
    LOWER_FILE_BAD = "lower_file_bad"
    LOWER_MISMATCH = "lower_mismatch"
    MOUNT_ID_MISSING = "mount_id_missing"
    LAYERDB_MISSING = "layerdb_missing"
    CACHE_ID_MISSING = "cache_id_missing"
    IMAGE_UNKNOWN = "image_unknown"
    DRIVER_UNSUPPORTED = "driver_unsupported"
    METADATA_UNREADABLE = "metadata_unreadable"


@dataclass(frozen=True, slots=True)
class LayerFact:
    """One missing or inconsistent piece of a container's layer stack, with evidence."""

    code: FactCode
    layer_id: str
    path: bytes
    detail: str
    expected: str = ""
    found: str = ""


@dataclass(slots=True)
class Layers:
    """A container's layer stack as a driver resolved it.

    ``stack`` is top first: the upper dir, then the init layer, then image layers from the
    newest to the base. ``graph_data`` mirrors ``docker inspect``'s ``GraphDriver.Data``
    (``UpperDir``, ``LowerDir``, ``WorkDir``, ``MergedDir`` as absolute paths on the
    engine's host), so a user can compare it with what the engine printed.
    """

    driver: str
    whiteout: WhiteoutFormat
    stack: list[Layer] = field(default_factory=list)
    facts: list[LayerFact] = field(default_factory=list)
    graph_data: dict[str, str] = field(default_factory=dict)
    mount_id: str = ""
    anchor: bytes = b""

    @property
    def upper(self) -> Layer | None:
        """Return the container's own writable layer, if found."""
        for layer in self.stack:
            if layer.role is LayerRole.UPPER:
                return layer
        return None

    @property
    def complete(self) -> bool:
        """Return whether every layer of the stack was found."""
        return not self.facts and all(layer.root is not None for layer in self.stack)


class Driver(ABC):
    """A storage driver's reader."""

    #: The name Docker records in config.v2.json ``Driver``.
    name: str

    @abstractmethod
    def layers(self, container: Container) -> Layers:
        """Return the container's layer stack, top first. Reads metadata and small files."""
