"""QTI 2.2's ``<audio>`` becomes the item's audio, with its fallback text as the transcript;
what an item or a scenario cannot hold is refused with words that say what they do hold."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask

from item_bank import transfer
from tests.item_bank.media_fixtures import TRANSCRIPT, item_xml, package, png_chart, wav_tone
from tests.item_bank.test_qti import DEFAULT, _count, _exported, _import
from tests.item_bank.test_stimuli_transfer import _package as stimulus_package


def _qti22(audio: str) -> bytes:
    xml = item_xml(img="", audio=f"\n    {audio}")
    return xml.replace(b'xsd/imsqti_v2p1"', b'xsd/imsqti_v2p2"', 1)


def _refusal(app: Flask, data: bytes) -> tuple[str, str]:
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    [error] = refused.value.summary.errors
    assert error.source == "items/chart-item.xml" and "\n" not in error.message
    return error.field, error.message


@pytest.mark.parametrize(
    "audio",
    [
        f'<audio controls="controls" src="../sounds/call.wav">{TRANSCRIPT}</audio>',
        '<audio controls="controls"><source src="../sounds/call.wav" type="audio/wav"/>'
        f"{TRANSCRIPT}</audio>",
    ],
)
def test_a_qti_22_audio_element_becomes_the_items_audio_with_its_transcript(
    app: Flask, first_level: None, audio: str
) -> None:
    data = package({"chart-item": _qti22(audio)}, {"sounds/call.wav": wav_tone()})
    summary = _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    assert (summary.created, summary.errors) == (1, [])
    [item] = _exported(app).values()
    assert item["media"] == [
        {"sha256": hashlib.sha256(wav_tone()).hexdigest(), "alt": "", "transcript": TRANSCRIPT}
    ]
    assert item["stem"] == "What does the chart show about renewals?"


def test_an_audio_without_a_transcript_or_playing_an_image_is_refused_saying_so(
    app: Flask, first_level: None
) -> None:
    silent = package(
        {"chart-item": _qti22('<audio src="../sounds/call.wav"/>')},
        {"sounds/call.wav": wav_tone()},
    )
    assert _refusal(app, silent) == (
        "media",
        "sounds/call.wav: the audio has no transcript (the text of its <audio>); "
        "the bank requires one.",
    )
    picture = package(
        {"chart-item": _qti22(f'<audio src="../images/chart.png">{TRANSCRIPT}</audio>')},
        {"images/chart.png": png_chart()},
    )
    assert _refusal(app, picture) == (
        "media",
        "images/chart.png: an <audio> must play a sound file, not an image.",
    )
    assert _count(app) == 0


@pytest.mark.parametrize(
    ("element", "words"),
    [
        ('<video src="../clips/intro.mp4"/>', "<video ../clips/intro.mp4> is not imported: video"),
        (
            '<math xmlns="http://www.w3.org/1998/Math/MathML"><mi>x</mi></math>',
            "<math> is not imported: MathML is not supported",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg"/>',
            "<svg> is not imported: inline SVG is not supported; put the drawing in an .svg file",
        ),
    ],
)
def test_what_an_item_cannot_hold_is_refused_without_claiming_otherwise(
    app: Flask, first_level: None, element: str, words: str
) -> None:
    data = package({"chart-item": _qti22(f"<p>{element}</p>")}, {})
    field, message = _refusal(app, data)
    assert field == "stem" and message.startswith(words), message


def test_an_image_in_a_scenario_without_its_file_is_refused_naming_it(
    app: Flask, first_level: None
) -> None:
    upload = stimulus_package({"passages/exhibit.xhtml": b"<div><p><img src='a.png'/></p></div>"})
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, upload, default_competency="CU.SK.COMM.03")
    messages = {error.message for error in refused.value.summary.errors}
    assert messages == {
        "The stimulus file passages/exhibit.xhtml holds a medium the bank cannot take: "
        "passages/a.png: the media file is missing from the package."
    }
