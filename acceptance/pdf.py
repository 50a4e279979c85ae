"""The report as a PDF, printed on A4 by a real engine: headless chromium (Debian's
package) prints the HTML laid out for paper (`render_html(paged=True)`), whose script
starts each page at a whole row and repeats that row's 一级指标.

Chromium is found as SCG_CHROMIUM, else `chromium` / `chromium-browser` on PATH. It is a
blocking call of a few seconds: run it off the event loop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

from acceptance.export import render_html
from acceptance.report import AcceptanceReport

ENV_VAR: Final = "SCG_CHROMIUM"
#: Printing a 28-row report takes a few seconds; a stuck browser is stopped after this.
TIMEOUT_S: Final = 120


class PdfError(RuntimeError):
    """The PDF cannot be made; the message says what to install or fix."""


def find_chromium() -> str:
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        if not os.access(configured, os.X_OK):
            raise PdfError(f"{ENV_VAR}={configured} is not an executable file; point it at "
                           "chromium or unset it")
        return configured
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise PdfError("the PDF is printed by chromium, which is not installed: install "
                   "Debian's chromium (apt-get install chromium) or set SCG_CHROMIUM, or "
                   "write --format html and print it from a browser")


def html_to_pdf(html: str, *, chromium: str | None = None) -> bytes:
    """Print `html` (self-contained) to PDF with headless chromium; A4 comes from its
    `@page` rule."""
    browser = chromium or find_chromium()
    with tempfile.TemporaryDirectory(prefix="scg-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        try:
            done = subprocess.run(
                [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--hide-scrollbars", "--no-pdf-header-footer",
                 "--window-size=800,1200", f"--user-data-dir={Path(tmp) / 'profile'}",
                 f"--print-to-pdf={out}", page.as_uri()],
                capture_output=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"chromium ({browser}) did not print the report within "
                           f"{TIMEOUT_S} s") from None
        except OSError as exc:
            raise PdfError(f"cannot run chromium ({browser}): {exc.strerror or exc}") from None
        data = out.read_bytes() if out.exists() else b""
        if done.returncode != 0 or not data.startswith(b"%PDF"):
            tail = done.stderr.decode("utf-8", errors="replace").strip()[-600:]
            raise PdfError(f"chromium ({browser}) exited with {done.returncode} and wrote no "
                           f"PDF: {tail or 'no message'}")
        return data


def to_pdf(report: AcceptanceReport, *, chromium: str | None = None) -> bytes:
    return html_to_pdf(render_html(report, paged=True), chromium=chromium)
