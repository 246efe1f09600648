"""Walk every HTTP capture of many archive files, revisits resolved to their originals' bodies.

One pass over each file: responses are remembered by *where* they are (record id, URI +
payload digest, URI + date), not by their bodies, so memory stays small; a revisit's original
is read again by seek when the revisit comes. A revisit whose original comes later (files in
an odd order) is held back and yielded after the last file; one whose original is nowhere
(nor behind the ``find_original`` hook, e.g. an earlier archive) is yielded with
``missing_original`` set: a miss to report, never an exception.

Damage in one file is yielded as a :class:`Damage` item after that file's whole records, and
the walk goes on with the next file: the caller decides whether damage fails the run
(:func:`raise_on_damage` turns it into an exception).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from caseharvest.capture.archive_sources import find_archive_files
from caseharvest.capture.content_coding import DEFAULT_LIMIT
from caseharvest.capture.http_capture import Capture, iter_file_captures, read_capture
from caseharvest.capture.record_framing import Damage, RecordLocation

OriginalLookup = Callable[[Capture], Capture | None]
_CACHED_ORIGINALS = 16  # originals read for revisits kept decoded: revisits come in runs


class DamagedArchiveError(RuntimeError):
    """An archive file is damaged; ``damage`` says which file and where."""

    def __init__(self, damage: Damage) -> None:
        super().__init__(damage.message)
        self.damage = damage


class OriginalIndex:
    """Where the responses seen so far are: by record id, URI + payload digest, URI + date."""

    def __init__(self) -> None:
        self.by_id: dict[str, RecordLocation] = {}
        self.by_digest: dict[tuple[str, str], RecordLocation] = {}
        self.by_date: dict[tuple[str, str], RecordLocation] = {}

    def add(self, capture: Capture) -> None:
        """Remember a response record as a possible original."""
        location = capture.location
        if capture.record_id:
            self.by_id[capture.record_id] = location
        if capture.payload_digest and capture.status != 304:
            key = (capture.target_uri, _digest_key(capture.payload_digest))
            self.by_digest.setdefault(key, location)
        self.by_date.setdefault((capture.target_uri, capture.warc_date), location)

    def find(self, revisit: Capture) -> RecordLocation | None:
        """The original of *revisit*: by ``WARC-Refers-To``, else URI + digest, else URI + date."""
        if revisit.refers_to and revisit.refers_to in self.by_id:
            return self.by_id[revisit.refers_to]
        uri = revisit.refers_to_target_uri or revisit.target_uri
        if revisit.payload_digest:
            found = self.by_digest.get((uri, _digest_key(revisit.payload_digest)))
            if found is not None:
                return found
        if revisit.refers_to_date:
            return self.by_date.get((uri, revisit.refers_to_date))
        return None

    @classmethod
    def from_sources(cls, sources: Iterable[Path | str]) -> OriginalIndex:
        """The responses of an earlier archive's files (one pass, no bodies decoded)."""
        index = cls()
        for item in iter_captures(sources, bodies=False, resolve=False):
            if isinstance(item, Capture) and item.record_type == "response":
                index.add(item)
        return index

    def lookup(self, revisit: Capture) -> Capture | None:
        """An :data:`OriginalLookup` hook: the original read from this index's files."""
        location = self.find(revisit)
        return read_capture(location) if location is not None else None


def iter_captures(
    sources: Iterable[Path | str],
    *,
    bodies: bool = True,
    limit: int = DEFAULT_LIMIT,
    find_original: OriginalLookup | None = None,
    resolve: bool = True,
) -> Iterator[Capture | Damage]:
    """Every HTTP capture of the archive files in *sources* (see ``find_archive_files``).

    Files in order, each file's captures in file order; revisits resolved (``body`` from the
    original, ``original`` its location) unless ``resolve=False``; revisits whose original is
    later are yielded after the last file. With ``bodies=False`` nothing is decoded, but
    revisits still get ``original``. Raises SourceError (before yielding) for bad sources.
    """
    files = find_archive_files(sources)
    index = OriginalIndex()
    resolver = _Resolver(index, bodies=bodies, limit=limit)
    held: list[Capture] = []
    for path in files:
        for item in iter_file_captures(path, bodies=bodies, limit=limit):
            if isinstance(item, Damage):
                yield item
                continue
            if item.record_type == "response":
                index.add(item)
            elif resolve and not resolver.resolve(item, find_original):
                held.append(item)
                continue
            yield item
    for revisit in held:
        if not resolver.resolve(revisit, None):
            target = revisit.refers_to or revisit.payload_digest or revisit.refers_to_date
            revisit.missing_original = (
                f"revisit of {revisit.target_uri} ({target}): original not found"
            )
            revisit.warnings.append(revisit.missing_original)
        yield revisit


def raise_on_damage(items: Iterable[Capture | Damage]) -> Iterator[Capture]:
    """The captures of *items*; raises DamagedArchiveError at the first damage, after them."""
    for item in items:
        if isinstance(item, Damage):
            raise DamagedArchiveError(item)
        yield item


class _Resolver:
    """Gives revisits their original's body, reading each original once for a run of revisits."""

    def __init__(self, index: OriginalIndex, *, bodies: bool, limit: int) -> None:
        self.index, self.bodies, self.limit = index, bodies, limit
        self.cache: OrderedDict[RecordLocation, Capture] = OrderedDict()

    def resolve(self, revisit: Capture, hook: OriginalLookup | None) -> bool:
        location = self.index.find(revisit)
        if location is not None:
            revisit.original = location
            if not self.bodies:
                return True
            original = self._read(location, revisit)
            if original is not None:
                _take_body(revisit, original)
                return True
            return False
        if hook is not None:
            original = hook(revisit)
            if original is not None:
                revisit.original = original.location
                _take_body(revisit, original)
                return True
        return False

    def _read(self, location: RecordLocation, revisit: Capture) -> Capture | None:
        original = self.cache.get(location)
        if original is not None:
            self.cache.move_to_end(location)
            return original
        try:
            original = read_capture(location, limit=self.limit)
        except (OSError, ValueError) as exc:
            revisit.warnings.append(f"original at {location.describe()}:{location.offset}: {exc}")
            return None
        self.cache[location] = original
        if len(self.cache) > _CACHED_ORIGINALS:
            self.cache.popitem(last=False)
        return original


def _take_body(revisit: Capture, original: Capture) -> None:
    revisit.body = original.body
    revisit.original_headers = original.headers
    revisit.codings = original.codings
    revisit.warnings.extend(original.warnings)


def _digest_key(digest: str) -> str:
    # "SHA1:abc" and "sha1:ABC" name the same base32 or hex digest; base64 (mixed case) is
    # case-sensitive and stays as it is.
    algorithm, _, value = digest.strip().partition(":")
    if value.islower() or value.isupper():
        value = value.upper()
    return f"{algorithm.lower()}:{value}"
