"""Media for tests: a small PNG chart, an SVG, a WAV tone, and QTI packages that use them."""

from __future__ import annotations

import io
import wave
import zipfile

from PIL import Image, ImageDraw

CHART_ALT = "Bar chart: renewals rose from 40 in Q1 to 75 in Q4."
TRANSCRIPT = "A customer says: we would renew if onboarding took a week, not a month."
FEEDBACK = "Staff only: the chart shows growth, so B is right."


def png_chart(width: int = 320, height: int = 180, shade: int = 0) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for index, value in enumerate((40, 55, 60, 75)):
        left = 20 + index * 70
        draw.rectangle(
            (left, height - 20 - value * 2, left + 50, height - 20), fill=(30, 80 + shade, 160)
        )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def svg_image(extra: str = "") -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60">'
        f'<title>Two bars</title><rect x="10" y="20" width="40" height="40" fill="#1e50a0"/>'
        f'<rect x="70" y="5" width="40" height="55" fill="#1e50a0"/>{extra}</svg>'
    ).encode()


def wav_tone() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(1)
        sound.setframerate(8000)
        sound.writeframes(bytes((128 + (i % 16) * 4) for i in range(1600)))
    return out.getvalue()


def item_xml(
    identifier: str = "chart-item",
    img: str = '<img src="../images/chart.png" alt="{alt}"/>',
    audio: str = "",
    choice_extra: str = "",
) -> bytes:
    body = img.format(alt=CHART_ALT)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="{identifier}"
    title="{identifier}" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>b</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <p>What does the chart show about renewals?</p>
    <p>{body}</p>{audio}
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="1">
      <simpleChoice identifier="a">They fell{choice_extra}</simpleChoice>
      <simpleChoice identifier="b">They rose</simpleChoice>
      <simpleChoice identifier="c">They stayed flat</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
  <modalFeedback outcomeIdentifier="FEEDBACK" identifier="RATIONALE" showHide="show"><p>{FEEDBACK}</p></modalFeedback>
</assessmentItem>
""".encode()


MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="M">
  <organizations/>
  <resources>{resources}</resources>
</manifest>
"""


def package(items: dict[str, bytes], files: dict[str, bytes]) -> bytes:
    """A content package: each item at ``items/<name>.xml`` depending on one resource that
    lists every file."""
    resources = "".join(
        f'<resource identifier="{name}" type="imsqti_item_xmlv2p1" href="items/{name}.xml">'
        f'<file href="items/{name}.xml"/><dependency identifierref="media"/></resource>'
        for name in items
    )
    resources += '<resource identifier="media" type="webcontent">'
    resources += "".join(f'<file href="{path}"/>' for path in files) + "</resource>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("imsmanifest.xml", MANIFEST.format(resources=resources))
        for name, data in items.items():
            archive.writestr(f"items/{name}.xml", data)
        for path, data in files.items():
            archive.writestr(path, data)
    return out.getvalue()


def chart_package(**item: str) -> bytes:
    return package({"chart-item": item_xml(**item)}, {"images/chart.png": png_chart()})


AUDIO_OBJECT = (
    f'\n    <p><object data="../sounds/call.wav" type="audio/wav">{TRANSCRIPT}</object></p>'
)


def audio_package() -> bytes:
    return package(
        {"chart-item": item_xml(audio=AUDIO_OBJECT)},
        {"images/chart.png": png_chart(), "sounds/call.wav": wav_tone()},
    )
