"""Uploaded documents: the type is read from the bytes, never from the name."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile

SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword", ".doc"),
]
ZIP_TYPES = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
}
ODF = {
    b"application/vnd.oasis.opendocument.text": ".odt",
    b"application/vnd.oasis.opendocument.spreadsheet": ".ods",
}


# Markup that a browser would render or run if it ever sniffed the file (it looks at the
# first 512 bytes): a PDF or image carrying it there is a polyglot, refused.
MARKUP = re.compile(
    rb"<\s*(?:!doctype\s+html|html|head|body|script|svg|iframe|object|embed)\b", re.I
)
SNIFF_WINDOW = 1024


def sniff(head: bytes, data_for_zip: bytes | None = None) -> tuple[str, str] | None:
    """(content type, extension) of an accepted format, or None."""
    window = (data_for_zip if data_for_zip is not None else head)[:SNIFF_WINDOW]
    if MARKUP.search(window):
        return None
    for magic, ctype, ext in SIGNATURES:
        if head.startswith(magic):
            return ctype, ext
    if head.startswith(b"PK\x03\x04") and data_for_zip is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(data_for_zip)) as zf:
                names = zf.namelist()
                if "mimetype" in names:
                    mime = zf.read("mimetype").strip()
                    if mime in ODF:
                        return mime.decode(), ODF[mime]
                for prefix, (ctype, ext) in ZIP_TYPES.items():
                    if any(n.startswith(prefix) for n in names):
                        return ctype, ext
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
    return None


def safe_filename(name: str, ext: str) -> str:
    """ASCII, no path, no control characters, the extension matching the real type."""
    name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")[:80] or "document"
    return f"{stem}{ext}"
