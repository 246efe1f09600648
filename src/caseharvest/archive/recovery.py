"""Register in the catalog the records of WARC files a killed run left open."""

from __future__ import annotations

from caseharvest.archive.catalog import Catalog
from caseharvest.capture.recovery import RecoveredFile, recover_open_files
from caseharvest.model import WarcRecordRef

__all__ = ["recover_open_files", "register_recovered"]


def register_recovered(catalog: Catalog, recovered: RecoveredFile) -> int:
    """Add the recovered file's response and revisit records the catalog does not know yet.

    Cases are not marked archived here: the next crawl fetches them again (a revisit record
    when nothing changed), because only the pipeline marks a case archived.
    """
    methods = {
        record.concurrent_to: record.http_method
        for record in recovered.records
        if record.record_type == "request" and record.concurrent_to
    }
    added = 0
    for record in recovered.records:
        if record.record_type not in ("response", "revisit") or catalog.has_record(
            record.record_id
        ):
            continue
        written = WarcRecordRef(
            warc_file=recovered.path.name,
            offset=record.offset,
            length=record.length,
            record_id=record.record_id,
            record_type=record.record_type,
            warc_date=record.warc_date,
            payload_digest=record.payload_digest or "",
            request_record_id="",
        )
        catalog.add_capture(
            run_id=None,
            url=record.target_uri,
            method=methods.get(record.record_id) or "GET",
            status=record.http_status or 0,
            record=written,
            headers={name.lower(): value for name, value in record.http_headers},
        )
        added += 1
    catalog.commit()
    return added
