"""Small but well-formed attachment files, so a crawler's type sniffing sees the right magic."""

from __future__ import annotations

import io
import zipfile

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
# A fixed timestamp keeps the zip bytes (and so the ETag-free download) identical across runs.
_ZIP_TIME = (2019, 1, 7, 9, 0, 0)


def _pdf(label: str) -> bytes:
    text = label.encode("ascii", "replace").decode("ascii").replace("(", "").replace(")", "")
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _office_zip(kind: str, label: str) -> bytes:
    main = "word/document.xml" if kind == "docx" else "xl/workbook.xml"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (
            ("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types/>'),
            (main, f'<?xml version="1.0" encoding="UTF-8"?><doc>{label}</doc>'),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), text)
    return buffer.getvalue()


def _ole2(label: str) -> bytes:
    # A compound-file header is 512 bytes; only the signature matters to content sniffers.
    header = _OLE2_MAGIC + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    return (header + label.encode("utf-8")).ljust(512, b"\x00")


def attachment_bytes(kind: str, label: str) -> bytes:
    """Bytes of a small file of this kind (pdf, doc, docx, xls, xlsx) mentioning ``label``."""
    if kind == "pdf":
        return _pdf(label)
    if kind in ("docx", "xlsx"):
        return _office_zip(kind, label)
    if kind in ("doc", "xls"):
        return _ole2(label)
    raise ValueError(f"no attachment kind {kind!r}")
