"""Reading a content package safely: the zip, its ``imsmanifest.xml`` and its resources.

Nothing is unpacked to disk. A member's path must stay inside the package; each member
and the whole package are read under size caps (a header's sizes are not trusted: the
reads stop at the cap); every XML document is parsed with DTDs, entities and external
references refused, and any encoding Python knows read. Each refusal is a one-line
:class:`~core.errors.Problem` naming the file, raised before anything is written.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from core.errors import Problem
from item_bank.services import safe_xml

MAX_MEMBER_BYTES = 8 * 1024 * 1024  # one file, unpacked
# The manifest carries every item's metadata: a package of 10,000 items needs more room.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_PACKAGE_BYTES = 256 * 1024 * 1024  # every file together, unpacked
MAX_RATIO = 100  # unpacked size over packed size, per file (a zip bomb packs far tighter)
MAX_MEMBERS = 100_000
# Members this small may pack tighter than the ratio (a run of spaces) without harm.
RATIO_FLOOR_BYTES = 64 * 1024

# Zip compression methods zipfile cannot read, by number, as the report names them.
METHODS = {
    6: "Implode",
    9: "Deflate64",
    10: "PKWARE DCL Implode",
    93: "Zstandard",
    95: "XZ",
    98: "PPMd",
}
AES_METHOD = 99  # WinZip's AES encryption, which a zip names as a compression method

# The resource types that carry one QTI item, as tools name them in the manifest.
ITEM_TYPES = frozenset(
    {
        "imsqti_item_xmlv2p1",
        "imsqti_item_xmlv2p2",
        "imsqti_apipitem_xmlv2p1",
        "imsqti_apipitem_xmlv2p2",
    }
)
# What a skipped resource is called in the report.
KINDS = {
    "imsqti_test_xmlv2p1": "assessmentTest",
    "imsqti_test_xmlv2p2": "assessmentTest",
    "imsqti_apiptest_xmlv2p1": "assessmentTest",
    "imsqti_apiptest_xmlv2p2": "assessmentTest",
    "imsqti_section_xmlv2p1": "assessmentSection",
    "imsqti_section_xmlv2p2": "assessmentSection",
    "imsqti_stimulus_xmlv2p2": "assessmentStimulus",
    "imsqti_apipstimulus_xmlv2p2": "assessmentStimulus",
}


_LOCAL_NAMES: dict[Any, str] = {}


def local(tag: Any) -> str:
    """An element's name without its namespace (QTI 2.1, 2.2 and APIP alike); a comment or
    processing instruction (whose tag is not a string) has none."""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag[tag.rfind("}") + 1 :] if isinstance(tag, str) else ""
        if len(_LOCAL_NAMES) < 4096:  # tag names are few; a hostile file cannot grow this
            _LOCAL_NAMES[tag] = name
    return name


def parse_xml(data: bytes, name: str) -> Any:
    """One XML document, with DTDs, entities and external references refused and any
    encoding Python knows decoded (:mod:`item_bank.services.safe_xml`); a refusal is a
    one-line problem naming the file."""
    try:
        return safe_xml.parse(data)
    except safe_xml.XmlRefused as exc:
        raise Problem(400, exc.title, f"{name}: {exc}") from exc


@dataclass
class Resource:
    """A manifest resource: its type, main file, other files and the resources it uses."""

    identifier: str
    type: str
    href: str
    files: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)  # identifierrefs
    metadata: Any = None  # the resource's <metadata> element, or None

    @property
    def kind(self) -> str:
        return KINDS.get(self.type, self.type or "resource")


def _safe_name(name: str, where: str) -> str:
    """A member path inside the package, or a refusal naming it."""
    normal = posixpath.normpath(name.replace("\\", "/"))
    if (
        name.startswith(("/", "\\"))
        or (len(name) > 1 and name[1] == ":")
        or normal == ".."
        or normal.startswith("../")
    ):
        raise Problem(400, "Unsafe package", f"{name}: {where} points outside the package.")
    return normal


class Package:
    """A zip content package, read member by member under the caps."""

    def __init__(self, data: bytes, name: str = "package.zip") -> None:
        self.name = name
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError) as exc:
            raise Problem(400, "Unreadable package", f"{name}: the zip file is damaged.") from exc
        infos = [info for info in self._zip.infolist() if not info.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise Problem(413, "Too large", f"{name}: more than {MAX_MEMBERS} files.")
        self._infos: dict[str, zipfile.ZipInfo] = {}
        declared = 0
        for info in infos:
            member = _safe_name(info.filename, "the file's path")
            declared += info.file_size
            self._check_size(member, info.file_size, info.compress_size)
            self._infos[member] = info
        if declared > MAX_PACKAGE_BYTES:
            raise Problem(
                413, "Too large", f"{name}: unpacks to more than {_mb(MAX_PACKAGE_BYTES)}."
            )
        self._read_total = 0

    @staticmethod
    def _check_size(member: str, size: int, packed: int) -> None:
        limit = _limit(member)
        if size > limit:
            raise Problem(413, "Too large", f"{member}: larger than {_mb(limit)}.")
        if size > RATIO_FLOOR_BYTES and size > MAX_RATIO * max(packed, 1):
            raise Problem(
                413,
                "Zip bomb",
                f"{member}: packed {MAX_RATIO} times tighter than any real file; refused.",
            )

    def names(self) -> list[str]:
        return sorted(self._infos)

    def __contains__(self, member: str) -> bool:
        return member in self._infos

    def read(self, member: str) -> bytes:
        """A member's bytes; the read stops at the caps whatever the header says."""
        info = self._infos.get(member)
        if info is None:
            raise Problem(
                400, "Missing file", f"{member}: named in the manifest but not in the package."
            )
        try:
            with self._zip.open(info) as stream:
                data = stream.read(_limit(member) + 1)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:  # corrupt data, bad CRC
            raise Problem(400, "Unreadable package", f"{member}: damaged in the zip file.") from exc
        except RuntimeError as exc:  # an encrypted member, or a method zipfile lacks
            raise Problem(400, "Unreadable package", _unreadable(member, info)) from exc
        self._check_size(member, len(data), info.compress_size)
        self._read_total += len(data)
        if self._read_total > MAX_PACKAGE_BYTES:
            raise Problem(
                413,
                "Too large",
                f"{member}: the package unpacks to more than {_mb(MAX_PACKAGE_BYTES)}.",
            )
        return data

    def manifest(self) -> list[Resource] | None:
        """The manifest's resources in document order, or None when there is no manifest."""
        if "imsmanifest.xml" not in self._infos:
            return None
        root = parse_xml(self.read("imsmanifest.xml"), "imsmanifest.xml")
        if local(root.tag) != "manifest":
            raise Problem(400, "Not a manifest", "imsmanifest.xml: its root is not <manifest>.")
        return list(_resources(root))


def _resources(root: Any) -> Iterator[Resource]:
    """The manifest's resources (the children of <resources>; a LOM <relation> in a
    resource's metadata has a <resource> of its own, which is no package resource)."""
    listed = (child for group in root if local(group.tag) == "resources" for child in group)
    for element in listed:
        if local(element.tag) != "resource":
            continue
        base = element.get("{http://www.w3.org/XML/1998/namespace}base") or ""
        href = element.get("href") or ""
        resource = Resource(
            identifier=element.get("identifier") or "",
            type=(element.get("type") or "").strip(),
            href=_safe_name(posixpath.join(base, href), "the manifest's href") if href else "",
        )
        for child in element:
            name = local(child.tag)
            if name == "file" and child.get("href"):
                path = _safe_name(posixpath.join(base, child.get("href")), "the manifest's href")
                if path != resource.href:
                    resource.files.append(path)
            elif name == "dependency" and child.get("identifierref"):
                resource.dependencies.append(child.get("identifierref"))
            elif name == "metadata":
                resource.metadata = child
        yield resource


def _unreadable(member: str, info: zipfile.ZipInfo) -> str:
    """Why zipfile cannot open a member (it raises RuntimeError, or its subclass
    NotImplementedError, for both)."""
    if info.flag_bits & 0x1 or info.compress_type == AES_METHOD:
        return (
            f"{member}: protected by a password; export the package without one and import again."
        )
    method = METHODS.get(info.compress_type, f"method {info.compress_type}")
    return (
        f"{member}: packed with a compression method that cannot be read here ({method}); "
        "pack it again as an ordinary (Deflate) zip and import again."
    )


def _limit(member: str) -> int:
    return MAX_MANIFEST_BYTES if member == "imsmanifest.xml" else MAX_MEMBER_BYTES


def _mb(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"
