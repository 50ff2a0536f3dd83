"""The Config Key of a .seb file, checked against a second, independent reading of the
Safe Exam Browser developer documentation (developer/seb-config-key.html and
developer/seb-file-format.html) written here from the XML itself, without plistlib."""

from __future__ import annotations

import base64
import gzip
import hashlib
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest

from core.errors import Problem
from exam.services.seb_config import config_key, config_key_of_file, read_settings, seb_json

HERE = Path(__file__).parent
FIXTURE = (HERE / "first-level.seb.xml").read_bytes()


# ---- the documented algorithm, read straight from the XML ------------------------------


def _element_json(element: ET.Element, root: bool = False) -> str:
    tag, text = element.tag, element.text or ""
    if tag in ("true", "false"):
        return tag
    if tag == "integer":
        return str(int(text))
    if tag == "real":
        return repr(float(text))
    if tag == "string":
        return '"' + text + '"'  # no escaping at all, backslashes included
    if tag == "data":
        return '"' + base64.b64encode(base64.b64decode("".join(text.split()))).decode() + '"'
    if tag == "date":
        return '"' + datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat() + '"'
    if tag == "array":
        return "[" + ",".join(_element_json(child) for child in element) + "]"
    assert tag == "dict", tag
    children = list(element)
    pairs = [(children[i].text or "", children[i + 1]) for i in range(0, len(children), 2)]
    if root:
        pairs = [(key, value) for key, value in pairs if key != "originatorVersion"]
    pairs = [(key, value) for key, value in pairs if not _empty_dict(value)]
    pairs.sort(key=lambda pair: pair[0].lower())
    return "{" + ",".join(f'"{key}":{_element_json(value)}' for key, value in pairs) + "}"


def _empty_dict(element: ET.Element) -> bool:
    if element.tag != "dict":
        return False
    values = list(element)[1::2]
    return all(_empty_dict(value) for value in values)


def independent_config_key(xml: bytes) -> str:
    plist = ET.fromstring(xml)  # noqa: S314  (the tests' own fixture)
    (root,) = list(plist)
    return hashlib.sha256(_element_json(root, root=True).encode("utf-8")).hexdigest()


# ---- the app's reading -------------------------------------------------------------------


def test_the_key_of_a_plain_xml_file_is_the_documented_one() -> None:
    expected = independent_config_key(FIXTURE)
    assert config_key_of_file(FIXTURE) == expected
    assert len(expected) == 64 and expected == expected.lower()


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(gzip.compress, id="gzip"),
        pytest.param(lambda xml: b"plnd" + gzip.compress(xml), id="plnd+gzip"),
        pytest.param(lambda xml: gzip.compress(b"plnd" + gzip.compress(xml)), id="as SEB saves"),
        pytest.param(lambda xml: gzip.compress(b"plnd" + xml), id="plnd+xml"),
    ],
)
def test_every_unencrypted_packing_gives_the_same_key(wrap) -> None:
    assert config_key_of_file(wrap(FIXTURE)) == independent_config_key(FIXTURE)


def test_the_originator_version_and_the_order_of_keys_do_not_count() -> None:
    settings = read_settings(FIXTURE)
    reordered = dict(reversed(list(settings.items())))
    assert config_key(reordered) == config_key(settings)
    assert config_key({**settings, "originatorVersion": "SEB_OSX_3.4"}) == config_key(settings)
    assert config_key({**settings, "allowQuit": True}) != config_key(settings)


def test_the_documents_example_is_written_exactly_as_published() -> None:
    """Settings taken from the documentation's example SEB-JSON, and that example's text:
    case-insensitive order (``URLFilterRules`` between ``urlFilterRegex`` and
    ``urlFilterTrustedContent``), backslashes unescaped, nested dictionaries sorted."""
    settings = {
        "zoomMode": 0,
        "urlFilterTrustedContent": True,
        "URLFilterRules": [
            {
                "regex": False,
                "expression": "safeexambrowser.org/exams",
                "active": True,
                "action": 1,
            }
        ],
        "urlFilterRegex": True,
        "URLFilterMessage": 1,
        "URLFilterEnable": True,
        "browserMessagingSocket": "ws:\\localhost:8706",
        "proxies": {"HTTPPort": 80, "ExceptionsList": [], "AutoConfigurationEnabled": False},
        "examKeySalt": base64.b64decode("fOwye5rcju6okk1489PNuKKm5VLTObxNAIn35vZNNrc="),
        "additionalResources": [],
    }
    published = (
        '{"additionalResources":[],"browserMessagingSocket":"ws:\\localhost:8706",'
        '"examKeySalt":"fOwye5rcju6okk1489PNuKKm5VLTObxNAIn35vZNNrc=",'
        '"proxies":{"AutoConfigurationEnabled":false,"ExceptionsList":[],"HTTPPort":80},'
        '"URLFilterEnable":true,"URLFilterMessage":1,"urlFilterRegex":true,'
        '"URLFilterRules":[{"action":1,"active":true,"expression":"safeexambrowser.org/exams",'
        '"regex":false}],"urlFilterTrustedContent":true,"zoomMode":0}'
    )
    assert seb_json(settings) == published


def test_empty_dictionaries_are_left_out() -> None:
    bare = {"allowQuit": False}
    assert config_key({**bare, "additionalDictionaries": {}}) == config_key(bare)
    assert config_key({**bare, "outer": {"inner": {}}}) == config_key(bare)
    assert config_key({**bare, "outer": {"inner": 1}}) != config_key(bare)


@pytest.mark.parametrize("prefix", [b"pswd", b"pwcc", b"pkhs", b"phsk"])
def test_an_encrypted_file_is_refused_with_a_request_for_the_key(prefix: bytes) -> None:
    with pytest.raises(Problem) as refused:
        config_key_of_file(gzip.compress(prefix + b"\x02\x01" + bytes(range(200))))
    assert refused.value.status == 422
    assert "encrypted" in refused.value.detail and "Paste the Config Key" in refused.value.detail
    assert refused.value.errors[0].field == "seb_file"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"PK\x03\x04 a zip archive", id="not a plist"),
        pytest.param(b"<?xml version='1.0'?><plist><array/></plist>", id="not a dictionary"),
        pytest.param(gzip.compress(b"<plist><dict><key>a</key>")[:-6], id="truncated"),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaa">]>'
            b"<plist><dict><key>k</key><string>&a;</string></dict></plist>",
            id="entity declarations",
        ),
        pytest.param(gzip.compress(b" " * (9 * 1024 * 1024)), id="unpacks too large"),
        pytest.param(b"<" * (1024 * 1024 + 1), id="too large"),
    ],
)
def test_what_is_not_a_configuration_is_refused_by_name(data: bytes) -> None:
    with pytest.raises(Problem) as refused:
        config_key_of_file(data)
    assert refused.value.status == 422 and refused.value.errors[0].field == "seb_file"
