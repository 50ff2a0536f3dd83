"""The item editor's media fields: the version's media with their words, and one new file."""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, FormField, HiddenField, TextAreaField
from wtforms import Form as PlainForm
from wtforms.validators import Length

from item_bank.services.media import MAX_ALT, MAX_TRANSCRIPT


class MediaEntryForm(PlainForm):
    sha256 = HiddenField()
    alt = TextAreaField(
        "Alt text",
        validators=[Length(max=MAX_ALT)],
        description="What the image shows, for candidates who cannot see it. Required.",
    )
    transcript = TextAreaField(
        "Transcript or description",
        validators=[Length(max=MAX_TRANSCRIPT)],
        description="Every word spoken, or what the recording holds. Required for audio.",
    )
    remove = BooleanField("Remove from this version")


class MediaFields:
    """Mixed into the item editor: the media shown after the stem."""

    media = FieldList(FormField(MediaEntryForm), min_entries=0, max_entries=10)
    media_upload = FileField(
        "Add an image or audio file",
        description="PNG, JPEG, WebP or SVG (at most 5 MB); MP3, Ogg, WAV or M4A (8 MB).",
    )
    media_upload_alt = TextAreaField(
        "Alt text of the new image",
        validators=[Length(max=MAX_ALT)],
        description="Required for an image: what it shows, as you would say it aloud.",
    )
    media_upload_transcript = TextAreaField(
        "Transcript or description of the new audio",
        validators=[Length(max=MAX_TRANSCRIPT)],
        description="Required for audio.",
    )

    def media_data(self) -> list[dict[str, str]]:
        return [
            {
                "sha256": entry.form.sha256.data or "",
                "alt": entry.form.alt.data or "",
                "transcript": entry.form.transcript.data or "",
            }
            for entry in self.media
            if not entry.form.remove.data
        ]

    def fill_media(self, media: list[dict[str, Any]]) -> None:
        while len(self.media):
            self.media.pop_entry()
        for medium in media:
            self.media.append_entry(medium)

    def take_upload(self) -> tuple[str, bytes] | None:
        """The new file's name and bytes, when one was sent."""
        upload = self.media_upload.data
        if upload is None or not getattr(upload, "filename", ""):
            return None
        return str(upload.filename), upload.read()

    def add_uploaded(self, sha256: str) -> None:
        """The stored upload as one more entry, with the words given for it."""
        self.media.append_entry(
            {
                "sha256": sha256,
                "alt": self.media_upload_alt.data or "",
                "transcript": self.media_upload_transcript.data or "",
            }
        )
        self.media_upload_alt.data = self.media_upload_transcript.data = ""
