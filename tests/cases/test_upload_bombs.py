"""Upload sniffing against zip bombs: an archive whose declared or actual expansion is out
of proportion, that lies in its headers, holds thousands of members or nests archives is
refused in well under a second and with almost no memory, through the sniffer, the API
and the porteur's web form; genuine office documents, PDFs and images are still accepted.

The bombs are built cheaply, never holding what they expand to: a 1 GiB deflate stream of
zeros is one full-flushed 1 MiB block repeated (the compressor's state is reset at each
full flush, so every block is the same bytes); a 1 GiB bzip2 stream is one compressed
block of zeros repeated bit by bit, with the stream's combined CRC recomputed."""

from __future__ import annotations

import bz2
import io
import os
import resource
import struct
import time
import tracemalloc
import zipfile
import zlib
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import builders
from cases.models import Document
from cases.uploads import ArchiveRefused, sniff
from tests import factories as f

GiB = 1 << 30
MiB = 1 << 20
ODT_MIME = b"application/vnd.oasis.opendocument.text"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MAX_SECONDS = 0.25  # per refusal by the sniffer (it takes a few milliseconds)
MAX_GROWTH = 50 * MiB


# ---------------------------------------------------------------- hand-built archives

LOCAL = struct.Struct("<4s5H3L2H")
CENTRAL = struct.Struct("<4s6H3L5H2L")
END = struct.Struct("<4s4H2LH")
END64 = struct.Struct("<4sQ2H2L4Q")
LOCATOR64 = struct.Struct("<4sLQL")


@dataclass
class Member:
    name: str
    data: bytes  # as stored (compressed)
    method: int = zipfile.ZIP_STORED
    size: int | None = None  # declared in the central directory (default: the truth)
    crc: int = 0
    local_size: int | None = None  # declared in the local header (default: as above)
    overlap: bool = False  # point at the local header of the earlier member of that name

    @classmethod
    def stored(cls, name: str, content: bytes) -> Member:
        return cls(name, content, zipfile.ZIP_STORED, len(content), zlib.crc32(content))

    @classmethod
    def deflated(cls, name: str, content: bytes) -> Member:
        packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        packed = packer.compress(content) + packer.flush()
        return cls(name, packed, zipfile.ZIP_DEFLATED, len(content), zlib.crc32(content))


def build_zip(members: list[Member], *, entries: int | None = None, zip64=False) -> bytes:
    """A ZIP written byte by byte, so that its headers can lie."""
    out, central, offsets = bytearray(), bytearray(), {}
    for m in members:
        name = m.name.encode()
        size = len(m.data) if m.size is None else m.size
        local_size = size if m.local_size is None else m.local_size
        if m.overlap:
            offset = offsets[m.name]
        else:
            offset = offsets[m.name] = len(out)
            out += LOCAL.pack(
                b"PK\x03\x04", 20, 0x800, m.method, 0, 0x21, m.crc, len(m.data), local_size,
                len(name), 0,
            )  # fmt: skip
            out += name + m.data
        central += CENTRAL.pack(
            b"PK\x01\x02", 20, 20, 0x800, m.method, 0, 0x21, m.crc, len(m.data), size,
            len(name), 0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        central += name
    start, count = len(out), len(members) if entries is None else entries
    out += central
    if zip64:
        record = len(out)
        out += END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central), start)
        out += LOCATOR64.pack(b"PK\x06\x07", 0, record, 1)
        out += END.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += END.pack(b"PK\x05\x06", 0, 0, count, count, len(central), start, 0)
    return bytes(out)


def deflate_zeros(size: int) -> tuple[bytes, int]:
    """(raw deflate stream of ``size`` zeros, their CRC-32), for size a multiple of 1 MiB."""
    chunk = bytes(MiB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // MiB):
        crc = zlib.crc32(chunk, crc)
    return block * (size // MiB) + packer.flush(), crc


BZ_BLOCK = format(0x314159265359, "048b")
BZ_END = format(0x177245385090, "048b")


def bzip2_zeros(blocks: int, per_block: int = 4 * MiB) -> bytes:
    """A bzip2 stream of ``blocks`` × ``per_block`` zeros: one compressed block, repeated
    (bzip2 blocks are bit-aligned, each carries its CRC; the end carries their combination)."""
    one = bz2.compress(bytes(per_block), 9)
    bits = format(int.from_bytes(one, "big"), f"0{len(one) * 8}b")
    assert bits[32:80] == BZ_BLOCK and bits.count(BZ_BLOCK) == 1
    block = bits[32 : bits.rindex(BZ_END)]
    block_crc, combined = int(block[48:80], 2), 0
    for _ in range(blocks):
        combined = (((combined << 1) | (combined >> 31)) & 0xFFFFFFFF) ^ block_crc
    stream = bits[:32] + block * blocks + BZ_END + format(combined, "032b")
    stream += "0" * (-len(stream) % 8)
    return int(stream, 2).to_bytes(len(stream) // 8, "big")


def ooxml(*members: Member) -> list[Member]:
    return [
        Member.deflated("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'),
        Member.deflated("word/document.xml", b"<w:document/>"),
        *members,
    ]


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    zeros, zeros_crc = deflate_zeros(GiB)
    bzip = bzip2_zeros(GiB // (4 * MiB))
    assert bz2.BZ2Decompressor().decompress(bzip, max_length=MiB) == bytes(MiB)
    assert zlib.decompressobj(-zlib.MAX_WBITS).decompress(zeros, MiB) == bytes(MiB)
    bz_crc = zeros_crc  # the same gigabyte of zeros
    mime = len(ODT_MIME)
    inner = build_zip([Member("zeros", zeros, zipfile.ZIP_DEFLATED, GiB, zeros_crc)])
    quarter, quarter_crc = deflate_zeros(GiB // 4)
    small_inner = build_zip([Member("zeros", quarter, zipfile.ZIP_DEFLATED, GiB // 4, quarter_crc)])
    small = [Member.stored(f"f{i}.xml", b"") for i in range(70_000)]
    kernel = Member.deflated("word/a.xml", b"<p>Devis</p>" * 340)
    return {
        # the report's case: a bzip2 « mimetype » that unpacks to 1 GiB
        "bzip2 mimetype": build_zip([Member("mimetype", bzip, 12, GiB, bz_crc)]),
        "bzip2 mimetype, size hidden": build_zip([Member("mimetype", bzip, 12, mime, bz_crc)]),
        "deflate mimetype": build_zip([Member("mimetype", zeros, 8, GiB, zeros_crc)]),
        "deflate mimetype, size hidden": build_zip([Member("mimetype", zeros, 8, mime, 0)]),
        "deflate, local header disagrees": build_zip(
            [Member("mimetype", zeros, 8, mime, 0, local_size=GiB)]
        ),
        "deflate document in a docx": build_zip(
            [
                Member.deflated("[Content_Types].xml", b"<Types/>"),
                Member("word/document.xml", zeros, 8, GiB, zeros_crc),
            ]
        ),
        "docx member, size hidden": build_zip(
            [
                Member.deflated("[Content_Types].xml", b"<Types/>"),
                Member("word/document.xml", zeros, 8, 3000, 0),
            ]
        ),
        "5 000 members": build_zip(ooxml(*small[:5000])),
        "70 000 members (ZIP64)": build_zip(ooxml(*small), zip64=True),
        "end record hides 70 000 members": build_zip(ooxml(*small), entries=3),
        "zip in a docx": build_zip(ooxml(Member.stored("word/media/image1.png", inner))),
        "zip of zips": build_zip([Member.stored(f"{i}.zip", small_inner) for i in range(16)]),
        "overlapping members": build_zip(
            ooxml(kernel, *[Member(kernel.name, kernel.data, 8, 4080, overlap=True)] * 99)
        ),
    }


def measured(call):
    """(outcome, seconds, tracemalloc peak, growth of the peak RSS) of ``call()``."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome = call()
    except Exception as exc:  # noqa: BLE001 - the outcome is what is measured
        outcome = exc
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    return outcome, seconds, peak, growth


BOMB_NAMES = [
    "bzip2 mimetype",
    "bzip2 mimetype, size hidden",
    "deflate mimetype",
    "deflate mimetype, size hidden",
    "deflate, local header disagrees",
    "deflate document in a docx",
    "docx member, size hidden",
    "5 000 members",
    "70 000 members (ZIP64)",
    "end record hides 70 000 members",
    "zip in a docx",
    "zip of zips",
    "overlapping members",
]


# ---------------------------------------------------------------- the sniffer


@pytest.mark.parametrize("name", BOMB_NAMES)
def test_bombs_are_refused_at_once_with_little_memory(bombs, name):
    data = bombs[name]
    assert len(data) < 10 * MiB  # within the upload limit: a porteur can send it
    outcome, seconds, peak, growth = measured(lambda: sniff(data[:16], data))
    assert isinstance(outcome, ArchiveRefused), outcome
    assert outcome.message.startswith("Archive refusée : ")
    assert outcome.errors == {"file": ["Archive refusée."]}
    assert seconds < MAX_SECONDS, f"{seconds:.3f} s"
    assert peak < MAX_GROWTH, f"{peak / MiB:.1f} MiB traced"
    assert growth < MAX_GROWTH, f"{growth / MiB:.1f} MiB of RSS"


@pytest.mark.parametrize(
    "name, reason",
    [
        ("bzip2 mimetype", "méthode de compression non prise en charge"),
        ("deflate mimetype", "taux de compression anormal"),
        ("deflate mimetype, size hidden", "taille réelle différente de la taille annoncée"),
        ("deflate, local header disagrees", "en-têtes contradictoires"),
        ("docx member, size hidden", "taille réelle différente de la taille annoncée"),
        ("5 000 members", "trop de fichiers"),
        ("70 000 members (ZIP64)", "trop de fichiers"),
        ("end record hides 70 000 members", "répertoire central démesuré"),
        ("zip in a docx", "archive imbriquée"),
        ("zip of zips", "archive imbriquée"),
    ],
)
def test_each_refusal_says_why_in_french(bombs, name, reason):
    with pytest.raises(ArchiveRefused) as refused:
        sniff(bombs[name][:16], bombs[name])
    assert reason in refused.value.message


def test_the_bombs_really_expand_as_announced(bombs):
    """The members are what they claim to be: a stream that the old sniffer would have
    inflated whole (read here a few MiB at a time, and only the start)."""
    with zipfile.ZipFile(io.BytesIO(bombs["deflate mimetype"])) as zf:
        (info,) = zf.infolist()
        assert info.file_size == GiB and info.compress_size < 2 * MiB
        with zf.open(info) as member:
            assert member.read(4 * MiB) == bytes(4 * MiB)
    with zipfile.ZipFile(io.BytesIO(bombs["bzip2 mimetype"])) as zf:
        (info,) = zf.infolist()
        assert info.file_size == GiB and info.compress_size < 64 * 1024


# ---------------------------------------------------------------- genuine documents


def xlsx_bytes() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["Poste", "Montant"])
    for i in range(200):
        ws.append([f"Travaux {i}", 1250.5 * i])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def odf_bytes(mime: bytes, body: bytes) -> bytes:
    """A minimal OpenDocument package as LibreOffice writes it: « mimetype » first and
    stored, then the manifest and the content, deflated."""
    manifest = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        b' manifest:version="1.2">'
        b'<manifest:file-entry manifest:full-path="/" manifest:media-type="' + mime + b'"/>'
        b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        b"</manifest:manifest>"
    )
    content = (
        b'<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        b' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        b' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        b' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        b' office:version="1.2"><office:body>' + body + b"</office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mime, compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", manifest)
        zf.writestr("content.xml", content)
    return buffer.getvalue()


class _Stream:
    """A file that cannot seek: zipfile then writes data descriptors, as Java tools do."""

    def __init__(self):
        self.buffer = io.BytesIO()

    def write(self, data):
        return self.buffer.write(data)

    def flush(self):
        pass


def ooxml_bytes(main: str, content_type: str, *, stream=False, extra=()) -> bytes:
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main}" ContentType="{content_type}"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/officeDocument" Target="{main}"/></Relationships>'
    )
    target = _Stream() if stream else io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr(
            main, "<root>" + "<p>Maison de santé pluriprofessionnelle</p>" * 300 + "</root>"
        )
        for name, data in extra:
            zf.writestr(name, data)
    return (target.buffer if stream else target).getvalue()


WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
PRESENTATION = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
GENUINE = {
    "xlsx (openpyxl)": (xlsx_bytes, XLSX, ".xlsx"),
    "docx": (lambda: ooxml_bytes("word/document.xml", WORD), DOCX, ".docx"),
    "docx with data descriptors": (
        lambda: ooxml_bytes("word/document.xml", WORD, stream=True),
        DOCX,
        ".docx",
    ),
    "docx with an embedded workbook": (
        lambda: ooxml_bytes(
            "word/document.xml",
            WORD,
            extra=[("word/embeddings/Microsoft_Excel_Worksheet.xlsx", xlsx_bytes())],
        ),
        DOCX,
        ".docx",
    ),
    "pptx": (lambda: ooxml_bytes("ppt/presentation.xml", PRESENTATION), PPTX, ".pptx"),
    "odt": (
        lambda: odf_bytes(ODT_MIME, b"<office:text><text:p>Devis</text:p></office:text>"),
        ODT_MIME.decode(),
        ".odt",
    ),
    "ods": (
        lambda: odf_bytes(ODS_MIME, b"<office:spreadsheet><table:table/></office:spreadsheet>"),
        ODS_MIME.decode(),
        ".ods",
    ),
    "pdf": (
        lambda: b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
        "application/pdf",
        ".pdf",
    ),
    "png": (lambda: PNG, "image/png", ".png"),
    "jpeg": (lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", "image/jpeg", ".jpg"),
    "doc": (
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        "application/msword",
        ".doc",
    ),
}


@pytest.mark.parametrize("name", GENUINE)
def test_genuine_documents_are_still_recognised(name):
    make, ctype, ext = GENUINE[name]
    data = make()
    assert sniff(data[:16], data) == (ctype, ext)


def test_an_odf_mimetype_must_be_stored_and_an_ooxml_needs_its_content_types():
    deflated_mime = build_zip([Member.deflated("mimetype", ODT_MIME)])
    assert sniff(deflated_mime[:16], deflated_mime) is None
    no_types = build_zip([Member.deflated("word/document.xml", b"<w:document/>")])
    assert sniff(no_types[:16], no_types) is None


# ---------------------------------------------------------------- end to end


def make_case(porteur):
    return builders.case_build(
        porteur=porteur,
        title="Maison de santé",
        plan=builders.plan(100000, ("DETR", 40000)),
        state="draft",
    )


def stored_files(settings) -> list[str]:
    return [
        os.path.join(root, name)
        for root, _, names in os.walk(settings.MEDIA_ROOT)
        for name in names
    ]


@pytest.fixture
def porteur_case(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    porteur = f.porteur()
    return porteur, make_case(porteur)


API_BOMBS = [
    "bzip2 mimetype",
    "deflate mimetype",
    "deflate mimetype, size hidden",
    "docx member, size hidden",
    "5 000 members",
    "zip of zips",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", API_BOMBS)
def test_api_refuses_a_bomb_in_french_and_saves_nothing(bombs, porteur_case, settings, name):
    porteur, case = porteur_case
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=porteur).key}")

    def post(content):
        return client.post(
            f"/api/v1/cases/{case.pk}/documents/",
            {"kind": "other", "file": SimpleUploadedFile("budget.odt", content)},
            format="multipart",
        )

    assert post(b"warm-up: imports and URLs, not measured").status_code == 400
    response, seconds, peak, growth = measured(lambda: post(bombs[name]))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"].startswith("Archive refusée : ")
    assert body["errors"]["file"] == ["Archive refusée."]
    assert seconds < 1.0, f"{seconds:.3f} s"
    assert peak < MAX_GROWTH and growth < MAX_GROWTH, (peak, growth)
    assert not Document.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["xlsx (openpyxl)", "odt", "docx with data descriptors"])
def test_api_still_accepts_genuine_office_documents(porteur_case, name):
    porteur, case = porteur_case
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=porteur).key}")
    make, ctype, ext = GENUINE[name]
    response = client.post(
        f"/api/v1/cases/{case.pk}/documents/",
        {"kind": "other", "file": SimpleUploadedFile("piece.bin", make())},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["filename"] == f"piece{ext}"
    assert Document.objects.get().content_type == ctype


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bzip2 mimetype", "deflate mimetype, size hidden"])
def test_web_form_refuses_a_bomb_in_french_and_saves_nothing(
    client, bombs, porteur_case, settings, name
):
    porteur, case = porteur_case
    client.force_login(porteur)
    for url in (f"/dossiers/{case.pk}/etapes/pieces/", f"/mes-dossiers/{case.pk}/pieces/"):

        def post(content, url=url):
            file = SimpleUploadedFile("devis.odt", content)
            return client.post(url, {"kind": "other", "label": "", "file": file})

        assert "Format refusé" in post(b"warm-up, not measured").content.decode()
        response, seconds, peak, growth = measured(lambda post=post: post(bombs[name]))
        assert response.status_code in (200, 400), (url, response.status_code)
        assert "Archive refusée" in response.content.decode(), url
        assert seconds < 1.0, f"{url}: {seconds:.3f} s"
        assert peak < MAX_GROWTH and growth < MAX_GROWTH, (url, peak, growth)
    assert not Document.objects.exists()
    assert stored_files(settings) == []
