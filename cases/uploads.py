"""Uploaded documents: the type is read from the bytes, never from the name.

Office documents are ZIP archives. Their type is probed without ever inflating a member
whole: the end record bounds the central directory before it is parsed; the declared
sizes must stay in proportion to the file (no zip bomb); only stored and deflated members
(all that OOXML and ODF use) are read, each through its own local header, which must agree
with the central directory; at most 4 KiB of each is inflated, a chunk at a time with the
output capped, and more output than its header declared refuses the archive.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
import zlib

from engine.errors import DomainError

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

# Archives: what a genuine office document of a few megabytes never exceeds.
MAX_MEMBERS = 2_000
MAX_CENTRAL_DIRECTORY = MAX_MEMBERS * 256  # bytes, read before any entry is parsed
MAX_RATIO = 100  # declared expansion of the whole archive, against its size
RATIO_FLOOR = 1024 * 1024  # a tiny archive may always expand to 1 MiB
MAX_EXPANDED = 256 * 1024 * 1024  # declared expansion, whatever the archive's size
DEFLATE_MAX_RATIO = 1_100  # deflate cannot expand more than 1032:1: beyond, a header lies
READ_BYTES = 4096  # at most what is inflated of each member (one more, to catch a lie)
MIMETYPE_BYTES = 128  # an ODF « mimetype » member is one short line
INFLATE_CHUNK = 16 * 1024  # compressed bytes given to the inflater at a time
METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}  # all that OOXML and ODF use
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # (gzip is legit: .emz images)
TOO_MANY = f"trop de fichiers à l'intérieur ({MAX_MEMBERS:,} au plus)".replace(",", " ")
EMBEDDINGS = re.compile(r"^(?:word|xl|ppt)/embeddings/[^/]+$")  # OLE objects of OOXML
EOCD = struct.Struct("<4s4H2LH")
EOCD64_LOCATOR = struct.Struct("<4sLQL")
EOCD64 = struct.Struct("<4sQ2H2L4Q")
LOCAL_HEADER = struct.Struct("<4s5H3L2H")


class ArchiveRefused(DomainError):
    """A ZIP whose structure or expansion is out of proportion: refused before any work."""

    def __init__(self, reason: str):
        super().__init__(f"Archive refusée : {reason}.", errors={"file": ["Archive refusée."]})


def sniff(head: bytes, data: bytes | None = None) -> tuple[str, str] | None:
    """(content type, extension) of an accepted format, or None; ``ArchiveRefused`` for
    an archive that is out of proportion (a zip bomb) or built to mislead. ``head``
    alone is enough for the non-archive formats; an archive needs the whole ``data``."""
    if data is None:
        data = head
    if MARKUP.search(data[:SNIFF_WINDOW]):
        return None
    for magic, ctype, ext in SIGNATURES:
        if data.startswith(magic):
            return ctype, ext
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    return None


def _sniff_zip(data: bytes) -> tuple[str, str] | None:
    if not _central_directory_bounded(data):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        return None
    if len(infos) > MAX_MEMBERS:
        raise ArchiveRefused(TOO_MANY)
    _check_declared_sizes(infos, len(data))
    view = memoryview(data)
    end = 0
    mime = b""
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset < end:
            raise ArchiveRefused("structure incohérente (fichiers superposés)")
        start, end = _member_span(view, info)
        head = _inflate_head(view[start:end], info, READ_BYTES)
        if head.startswith(ZIP_MAGIC) and not EMBEDDINGS.match(info.filename):
            raise ArchiveRefused("archive imbriquée dans l'archive")
        if info.filename == "mimetype" and info.compress_type == zipfile.ZIP_STORED:
            mime = head[:MIMETYPE_BYTES].strip()  # stored uncompressed, as ODF requires
    if mime in ODF:
        return mime.decode(), ODF[mime]
    names = {info.filename for info in infos}
    if "[Content_Types].xml" in names:  # every OOXML package has one
        for prefix, (ctype, ext) in ZIP_TYPES.items():
            if any(name.startswith(prefix) for name in names):
                return ctype, ext
    return None


def _central_directory_bounded(data: bytes) -> bool:
    """Read the end record before ``zipfile`` parses anything: refuse a central directory
    too long to be parsed cheaply. False when there is no end record (not a ZIP)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - EOCD.size - 0xFFFF))
    if at < 0 or at + EOCD.size > len(data):
        return False
    entries, size = EOCD.unpack_from(data, at)[4:6]
    locator = at - EOCD64_LOCATOR.size  # as zipfile does: a ZIP64 locator wins if present
    if locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        record = locator - EOCD64.size
        if record < 0 or data[record : record + 4] != b"PK\x06\x06":
            return False
        entries, size = EOCD64.unpack_from(data, record)[7:9]
    if entries > MAX_MEMBERS:
        raise ArchiveRefused(TOO_MANY)
    if size > MAX_CENTRAL_DIRECTORY:
        raise ArchiveRefused("répertoire central démesuré")
    return True


def _check_declared_sizes(infos, archive_size: int) -> None:
    """What the headers announce must stay in proportion to what was sent."""
    expanded = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ArchiveRefused("fichier chiffré à l'intérieur")
        if info.compress_type not in METHODS:
            raise ArchiveRefused("méthode de compression non prise en charge")
        if info.compress_size > archive_size:
            raise ArchiveRefused("structure incohérente (tailles contradictoires)")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise ArchiveRefused("structure incohérente (tailles contradictoires)")
        if info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 64:
            raise ArchiveRefused("taux de compression anormal")
        expanded += info.file_size
    if expanded > min(MAX_EXPANDED, max(MAX_RATIO * archive_size, RATIO_FLOOR)):
        raise ArchiveRefused("taux de compression anormal")


def _member_span(view: memoryview, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Where a member's compressed bytes lie, from its local header, which must agree
    with the central directory (a tool reading either one sees the same file)."""
    at = info.header_offset
    if at < 0 or at + LOCAL_HEADER.size > len(view):
        raise ArchiveRefused("structure incohérente (en-tête hors de l'archive)")
    magic, _, flags, method, _, _, _, packed, size, name_length, extra_length = (
        LOCAL_HEADER.unpack_from(view, at)
    )
    start = at + LOCAL_HEADER.size + name_length + extra_length
    end = start + info.compress_size
    sizes_here = not flags & 0x8 and 0xFFFFFFFF not in (packed, size)  # else: descriptor, ZIP64
    if (
        magic != b"PK\x03\x04"
        or method != info.compress_type
        or flags & 0x1
        or end > len(view)
        or (sizes_here and (packed, size) != (info.compress_size, info.file_size))
    ):
        raise ArchiveRefused("structure incohérente (en-têtes contradictoires)")
    raw_name = bytes(view[at + LOCAL_HEADER.size : at + LOCAL_HEADER.size + name_length])
    name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
    if name != info.orig_filename:
        raise ArchiveRefused("structure incohérente (noms contradictoires)")
    return start, end


def _inflate_head(raw: memoryview, info: zipfile.ZipInfo, limit: int) -> bytes:
    """At most ``limit`` bytes of a member, inflated a chunk at a time with the output
    capped; more output than the header declared means the header lies."""
    want = min(limit, info.file_size)
    if info.compress_type == zipfile.ZIP_STORED:
        return bytes(raw[:want])
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out = bytearray()
    position = 0
    try:
        while len(out) <= want and not inflater.eof:
            if inflater.unconsumed_tail:
                chunk = inflater.unconsumed_tail
            elif position < len(raw):
                chunk = raw[position : position + INFLATE_CHUNK]
                position += INFLATE_CHUNK
            else:
                break
            out += inflater.decompress(chunk, want + 1 - len(out))  # always ≥ 1: capped
    except zlib.error:
        raise ArchiveRefused("contenu compressé illisible") from None
    if len(out) > info.file_size or len(out) < want:
        raise ArchiveRefused("taille réelle différente de la taille annoncée")
    return bytes(out[:want])


def safe_filename(name: str, ext: str) -> str:
    """ASCII, no path, no control characters, the extension matching the real type."""
    name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")[:80] or "document"
    return f"{stem}{ext}"
