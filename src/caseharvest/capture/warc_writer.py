"""Write HTTP exchanges to rotating WARC/1.1 files, one gzip member per record."""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO, Literal

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from caseharvest.capture.exchange import HttpExchange
from caseharvest.model import WarcRecordRef

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
OPEN_SUFFIX = ".open"
DEFAULT_MAX_SIZE = 1_000_000_000

RevisitProfile = Literal["identical-payload-digest", "server-not-modified"]


def format_warc_date(moment: datetime) -> str:
    """WARC/1.1 date: UTC, microseconds, ``Z`` suffix (warcio's helper mangles aware datetimes)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def warc_file_pattern(prefix: str) -> re.Pattern[str]:
    """Names this writer gives its files for *prefix*, finished or still open."""
    return re.compile(
        rf"^{re.escape(prefix)}-(?P<stamp>\d{{14}})-(?P<serial>\d{{5}})-(?P<host>.+?)"
        rf"\.warc\.gz(?P<open>{re.escape(OPEN_SUFFIX)})?$"
    )


def next_serial(directory: Path, prefix: str) -> int:
    """Serial for the next file: one past the highest already in *directory* (runs continue it)."""
    pattern = warc_file_pattern(prefix)
    serials = [
        int(match["serial"])
        for entry in (directory.iterdir() if directory.is_dir() else ())
        if (match := pattern.match(entry.name))
    ]
    return max(serials, default=-1) + 1


@dataclass(frozen=True)
class RevisitOf:
    """The earlier capture a revisit record points to."""

    profile: RevisitProfile
    record_id: str
    target_uri: str
    warc_date: str
    payload_digest: str


class _RawHttpHead(StatusAndHeaders):
    """HTTP head kept byte for byte: warcio would re-encode non-ASCII header values."""

    def __init__(self, head: bytes) -> None:
        first_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        protocol, _, statusline = first_line.partition(" ")
        super().__init__(statusline, [], protocol=protocol)
        self._head = head

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        self.headers_buff = self._head


class RotatingWarcWriter:
    """Append exchanges to ``<prefix>-<timestamp>-<serial>-<host>.warc.gz`` files in *directory*.

    A file carries the ``.open`` suffix until it is closed, so a crash never leaves a file that
    looks complete; a new file starts once the current one reaches *max_size* bytes.
    """

    def __init__(
        self,
        directory: Path,
        prefix: str,
        warcinfo: Mapping[str, str],
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        hostname: str | None = None,
        clock: Callable[[], datetime] | None = None,
        record_ids: Callable[[], str] | None = None,
        on_file_closed: Callable[[Path], None] | None = None,
    ) -> None:
        self.directory = directory
        self.prefix = prefix
        self.warcinfo = dict(warcinfo)
        self.max_size = max_size
        self.hostname = re.sub(r"[^A-Za-z0-9.-]", "-", hostname or socket.gethostname())
        self._clock = clock or (lambda: datetime.now(UTC))
        self._record_ids = record_ids
        self._on_file_closed = on_file_closed
        self._file: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._path: Path | None = None
        self._warcinfo_id = ""
        self.files_written: list[Path] = []

    # -- public API -------------------------------------------------------------------------

    @property
    def current_name(self) -> str | None:
        """Final name of the file being written, or None."""
        return self._path.name.removesuffix(OPEN_SUFFIX) if self._path else None

    @property
    def size(self) -> int:
        """Bytes written to the current file (0 when none is open)."""
        return self._file.tell() if self._file is not None else 0

    def written(self) -> tuple[Path, Path, int] | None:
        """The file being written (its ``.open`` path and its final one) and its size, all
        of it flushed to the operating system so that another process can read it; None
        when no file is open."""
        if self._file is None or self._path is None or self.current_name is None:
            return None
        self._file.flush()
        return self._path, self._path.with_name(self.current_name), self._file.tell()

    def write_exchange(
        self, exchange: HttpExchange, revisit_of: RevisitOf | None = None
    ) -> WarcRecordRef:
        """Write the response (or a revisit of *revisit_of*) and then its request record."""
        self._ensure_file()
        assert self._file is not None and self._writer is not None
        warc_date = format_warc_date(exchange.date)
        common = {"WARC-Date": warc_date, "WARC-Warcinfo-ID": self._warcinfo_id}
        if exchange.ip_address:
            response_fields = {**common, "WARC-IP-Address": exchange.ip_address}
        else:
            response_fields = dict(common)

        if revisit_of is None:
            response = self._builder_record(
                exchange.url,
                "response",
                exchange.response_head(),
                exchange.response_body,
                response_fields,
            )
        else:
            response = self._builder_record(
                exchange.url,
                "revisit",
                exchange.response_head(),
                b"",
                {
                    **response_fields,
                    "WARC-Profile": (
                        REVISIT_IDENTICAL
                        if revisit_of.profile == "identical-payload-digest"
                        else REVISIT_NOT_MODIFIED
                    ),
                    "WARC-Refers-To": revisit_of.record_id,
                    "WARC-Refers-To-Target-URI": revisit_of.target_uri,
                    "WARC-Refers-To-Date": revisit_of.warc_date,
                    "WARC-Payload-Digest": revisit_of.payload_digest,
                    "WARC-Truncated": "length",
                },
            )
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        request = self._builder_record(
            exchange.url,
            "request",
            exchange.request_head(),
            exchange.request_body,
            {**common, "WARC-Concurrent-To": response_id},
        )
        offset = self._file.tell()
        self._writer.write_record(response)
        length = self._file.tell() - offset
        self._writer.write_record(request)
        assert self._path is not None
        return WarcRecordRef(
            warc_file=self._path.name.removesuffix(OPEN_SUFFIX),
            offset=offset,
            length=length,
            record_id=response_id,
            record_type=response.rec_type,
            warc_date=warc_date,
            payload_digest=response.rec_headers.get_header("WARC-Payload-Digest"),
            request_record_id=request.rec_headers.get_header("WARC-Record-ID"),
        )

    def close(self) -> None:
        """Finish the current file: flush, sync, and drop the ``.open`` suffix."""
        if self._file is None or self._path is None:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        final = self._path.with_name(self._path.name.removesuffix(OPEN_SUFFIX))
        os.replace(self._path, final)
        logger.info("closed WARC file %s", final)
        self.files_written.append(final)
        self._file = self._writer = self._path = None
        if self._on_file_closed is not None:
            self._on_file_closed(final)

    # -- internals --------------------------------------------------------------------------

    def _ensure_file(self) -> None:
        if self._file is not None and self._file.tell() >= self.max_size:
            self.close()
        if self._file is None:
            self._open_next()

    def _open_next(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = self._clock().strftime("%Y%m%d%H%M%S")
        serial = next_serial(self.directory, self.prefix)
        name = f"{self.prefix}-{stamp}-{serial:05d}-{self.hostname}.warc.gz"
        self._path = self.directory / (name + OPEN_SUFFIX)
        # "xb": two writers must never share a file, whatever happens to the lock.
        self._file = self._path.open("xb")
        self._writer = WARCWriter(self._file, gzip=True, warc_version=WARC_VERSION)
        info = BytesIO(
            b"".join(
                f"{key}: {value}\r\n".encode()
                for key, value in {
                    "format": "WARC File Format 1.1",
                    "conformsTo": CONFORMS_TO,
                    **self.warcinfo,
                }.items()
                if value
            )
        )
        fields = {"WARC-Date": format_warc_date(self._clock()), "WARC-Filename": name}
        if self._record_ids is not None:
            fields["WARC-Record-ID"] = self._record_ids()
        record = self._writer.create_warc_record(
            "",
            "warcinfo",
            payload=info,
            length=len(info.getvalue()),
            warc_headers_dict=fields,
            warc_content_type="application/warc-fields",
        )
        self._warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        self._writer.write_record(record)
        logger.info("opened WARC file %s", self._path)

    def _builder_record(
        self, uri: str, record_type: str, head: bytes, body: bytes, fields: dict[str, str]
    ) -> Any:
        assert self._writer is not None
        if self._record_ids is not None:
            fields = {**fields, "WARC-Record-ID": self._record_ids()}
        msgtype = "request" if record_type == "request" else "response"
        return self._writer.create_warc_record(
            uri,
            record_type,
            payload=BytesIO(body),
            length=len(body),
            warc_headers_dict=fields,
            http_headers=_RawHttpHead(head),
            warc_content_type=f"application/http; msgtype={msgtype}",
        )
