"""What a holder takes away: the verification link, its QR code, the PDF certificate and
an add-to-LinkedIn link with the fields filled in, and the badge shown on pages."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlencode

import segno
from flask import Flask
from fpdf import FPDF
from markupsafe import Markup

from certificates import badges, services
from certificates.credentials import ISSUER_NAME
from certificates.models import Certificate
from core import clock

FONTS = Path(__file__).resolve().parent / "fonts"


def verify_url(app: Flask, certificate: Certificate) -> str:
    return f"{app.config['PUBLIC_BASE_URL']}/verify/{services.link_token(certificate)}"


def badge_markup(certificate: Certificate) -> Markup:
    """The holder's badge as inline SVG for a page."""
    svg = badges.badge_svg(
        certificate.title, certificate.level, ISSUER_NAME, certificate.holder_name
    )
    # ElementTree built it: every name in it is escaped text, nothing else reaches it.
    return Markup(svg)  # noqa: S704


def qr_svg(url: str) -> Markup:
    """An inline SVG (no script, no external fetch), labelled for screen readers."""
    svg = segno.make(url, error="m").svg_inline(
        scale=4, title="QR code of the verification link", dark="#111", light="#fff"
    )
    # segno writes only paths and an escaped title; no input reaches the markup unescaped.
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))  # noqa: S704


def linkedin_url(app: Flask, certificate: Certificate) -> str:
    """LinkedIn's add-to-profile link for a certification."""
    fields = {
        "startTask": "CERTIFICATION_NAME",
        "name": certificate.title,
        "organizationName": ISSUER_NAME,
        "issueYear": certificate.issued_at.year,
        "issueMonth": certificate.issued_at.month,
        "expirationYear": certificate.expires_at.year,
        "expirationMonth": certificate.expires_at.month,
        "certUrl": verify_url(app, certificate),
        "certId": certificate.code,
    }
    return "https://www.linkedin.com/profile/add?" + urlencode(fields)


def certificate_pdf(app: Flask, certificate: Certificate) -> bytes:
    """An A4 landscape certificate; DejaVu Sans so every holder's name prints as written."""
    url = verify_url(app, certificate)
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(f"{certificate.title}: {certificate.holder_name}")
    pdf.set_author(ISSUER_NAME)
    pdf.set_creator("CSM Certify")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_draw_color(31, 78, 121)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_text_color(31, 41, 55)

    def line(text: str, size: float, style: str = "", top: float | None = None) -> None:
        if top is not None:
            pdf.set_y(top)
        pdf.set_font("DejaVu", style, size)
        pdf.cell(0, size * 0.6, text, align="C", new_x="LMARGIN", new_y="NEXT")

    line(ISSUER_NAME, 14, top=28)
    line("certifies that", 12, top=52)
    line(certificate.holder_name, 30, "B", top=64)
    line("has met the", 12, top=90)
    line(certificate.title, 20, "B", top=100)
    line(
        f"Issued {clock.format_day(certificate.issued_at)} · "
        f"valid until {clock.format_day(certificate.expires_at)}",
        12,
        top=124,
    )
    line(f"Certificate {certificate.code}", 12, "B", top=136)

    qr = io.BytesIO()
    segno.make(url, error="m").save(qr, kind="png", scale=8, border=2)
    qr.seek(0)
    pdf.image(qr, x=20, y=150, w=40, h=40)
    pdf.set_xy(66, 160)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(
        200,
        5,
        "Check this certificate at any time: scan the code, or visit "
        f"{app.config['PUBLIC_BASE_URL']}/verify and enter the code and the holder's "
        "family name. The verification page shows whether it is valid, expired or revoked.",
    )
    return bytes(pdf.output())
