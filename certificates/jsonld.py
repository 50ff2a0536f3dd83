"""JSON-LD processing over the published context files, never the network.

The contexts a credential names (VC 2.0, Open Badges 3.0, Controlled Identifiers,
Multikey, Data Integrity) are read from ``JSONLD_CONTEXT_DIR``: by default the published
files kept beside the repository in ``../shared/standards``; a deployment points it at
its own copy of the same files. A URL with no file there is an error, not a fetch.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask
from pyld import jsonld

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CID_CONTEXT = "https://www.w3.org/ns/cid/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"

CONTEXT_FILES = {
    VC_CONTEXT: "vc/credentials-v2.jsonld",
    OB_CONTEXT: "ob3/context-3.0.3.json",
    CID_CONTEXT: "vc/cid-v1.jsonld",
    MULTIKEY_CONTEXT: "vc/multikey-v1.jsonld",
    DATA_INTEGRITY_CONTEXT: "vc/data-integrity-v2.jsonld",
}
DEFAULT_CONTEXT_DIR = Path(__file__).resolve().parents[2] / "shared" / "standards"


class ContextUnavailable(ValueError):
    """A document names a context we hold no file for."""


def context_dir(app: Flask) -> Path:
    return Path(app.config.get("JSONLD_CONTEXT_DIR") or DEFAULT_CONTEXT_DIR)


@lru_cache(maxsize=16)
def _read(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def document_loader(directory: Path) -> Any:
    """A pyld document loader that serves the known contexts from ``directory``."""

    def load(url: str, options: object = None) -> dict[str, Any]:
        name = CONTEXT_FILES.get(url)
        if name is None:
            raise ContextUnavailable(f"no local copy of the JSON-LD document {url}")
        path = directory / name
        if not path.is_file():
            raise ContextUnavailable(f"the context file {path} for {url} is missing")
        return {"contextUrl": None, "documentUrl": url, "document": _read(path)}

    return load


def canonical_nquads(app: Flask, document: dict[str, Any]) -> str:
    """RDF Dataset Canonicalization (RDFC-1.0, the algorithm pyld calls URDNA2015) of
    ``document`` as N-Quads."""
    nquads: str = jsonld.normalize(
        document,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": document_loader(context_dir(app)),
        },
    )
    return nquads


def expand(app: Flask, document: dict[str, Any]) -> list[dict[str, Any]]:
    expanded: list[dict[str, Any]] = jsonld.expand(
        document, {"documentLoader": document_loader(context_dir(app))}
    )
    return expanded


def compact(app: Flask, expanded: list[dict[str, Any]], context: object) -> dict[str, Any]:
    compacted: dict[str, Any] = jsonld.compact(
        expanded, {"@context": context}, {"documentLoader": document_loader(context_dir(app))}
    )
    return compacted
