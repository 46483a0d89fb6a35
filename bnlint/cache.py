"""The per-file result cache in ``.bnlint_cache/``.

A warm ``bnlint check`` reads each file's findings from the cache instead of
interpreting the file again. An entry belongs to one checked path under one
*settings key* (bnlint's version and the effective configuration of that
file: selection, per-file ignores, rule options) and records the file's
content hash, the findings and reader notes, and the sibling modules the
interpreter followed (with their content hashes). It is used only when all
of these still match, so any change to the file, to a module it imports, to
the configuration or to bnlint invalidates it.

The cache lives in ``.bnlint_cache/`` in the project root: the directory of
the configuration file that applies to the checked file, else the current
directory. It holds a ``CACHEDIR.TAG`` (so backup tools skip it) and a
``.gitignore``. Entries are JSON (never pickle: a cache directory found in
a cloned repository must not be able to run code), written atomically; an
entry that cannot be read or decoded is a miss, never an error.

This module is on the warm path: it imports nothing heavy, and the
diagnostics classes only when an entry is decoded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from stat import S_ISDIR

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CACHE_DIR", "CACHEDIR_TAG", "ResultCache", "Slot", "make_entry", "settings_key", "content_hash", "clean"]

CACHE_DIR = ".bnlint_cache"

#: The cache directory tag (https://bford.info/cachedir/): the signature line must come first.
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by bnlint.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)

# Files at least this big (saved models) are trusted unchanged when their size, modification and
# status-change times and inode are unchanged; smaller ones are always hashed (hashing is cheaper
# than a doubt). Any write to a file changes its ctime, which no user tool can set back.
_TRUST_STAT_FROM = 1 << 20
_CHUNK = 1 << 20
_FORMAT = 7  # bump when the entry layout changes

try:  # the blake2 module alone: hashlib would also load OpenSSL, which costs more than hashing a project
    from _blake2 import blake2b as _blake2b
except ImportError:  # pragma: no cover - Pythons built without it
    from hashlib import blake2b as _blake2b


def settings_key(version: str, parts: Any) -> str:
    """A short hash of bnlint's *version* and the JSON-able *parts* of a file's effective configuration.

    Examples
    --------
    >>> settings_key("0.1.0", {"select": ["BN001"]}) == settings_key("0.1.0", {"select": ["BN001"]})
    True
    """
    text = json.dumps([_FORMAT, version, _code_fingerprint(), parts], sort_keys=True, default=repr)
    return _blake2b(text.encode(), digest_size=16).hexdigest()


def _code_fingerprint() -> list:
    """Sizes and modification times of bnlint's own modules: a development install changes without a new version."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        package = Path(__file__).parent
        found = []
        for directory in (package, *(p for p in package.iterdir() if p.is_dir() and p.name != "__pycache__")):
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.name.endswith(".py"):
                        info = entry.stat()
                        found.append((directory.name, entry.name, info.st_size, info.st_mtime_ns))
        _FINGERPRINT = sorted(found)
    return _FINGERPRINT


_FINGERPRINT: list | None = None


def _files(path: Path) -> list[tuple[str, Path]]:
    """The files that make up *path* (a file, or a SavedModel directory), with their names inside it."""
    if not path.is_dir():
        return [("", path)]
    found = []
    for directory, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(directory, name)
            found.append((full.relative_to(path).as_posix(), full))
    return found


def _stat_signature(path: Path) -> list:
    info = os.stat(path)
    if not S_ISDIR(info.st_mode):  # one stat for the common case
        return [["", info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]]
    signature = []
    for name, file in _files(path):
        info = file.stat()
        signature.append([name, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino])
    return signature


def data_hash(data: bytes) -> str:
    """:func:`content_hash` of a file holding *data*.

    >>> data_hash(Path(__file__).read_bytes()) == content_hash(Path(__file__))
    True
    """
    digest = _blake2b(digest_size=16)
    digest.update(b"\0")
    digest.update(data)
    digest.update(b"\0")
    return digest.hexdigest()


def content_hash(path: Path) -> str:
    """A hash of the bytes of the file at *path*, or of every file (and its name) in a directory.

    Read in 1 MiB chunks, so a large saved model is never held in memory.

    Examples
    --------
    >>> content_hash(Path(__file__)) == content_hash(Path(__file__))
    True
    """
    digest = _blake2b(digest_size=16)
    for name, file in _files(path):
        digest.update(name.encode() + b"\0")
        with open(file, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


class Slot:
    """Where one file's entry lives (a bucket file and a name in it), and the file's state when looked up.

    ``content`` is filled in lazily (a large saved model whose stat signature
    matched was not hashed). ``hashes`` holds the run's content hashes of
    imported modules, by path, shared by its slots: the files of one package
    import the same modules (a first run over the transformers package spent
    10% of its time hashing them again, file after file).
    """

    __slots__ = ("bucket", "name", "path", "signature", "content", "hashes")

    def __init__(
        self, bucket: Path, name: str, path: Path, signature: list, content: str | None = None,
        hashes: dict[str, str] | None = None,
    ) -> None:
        self.bucket, self.name, self.path, self.signature, self.content = bucket, name, path, signature, content
        self.hashes = hashes if hashes is not None else {}


class ResultCache:
    """The result cache rooted at *root* (a project directory; entries go to ``root/.bnlint_cache``).

    Entries are grouped in one *bucket* file per directory of checked files
    and settings key (as ruff does per package), so a run over a thousand
    files reads and writes a few dozen files, not a thousand. New entries
    are collected with :meth:`put` and written by :meth:`flush`, which
    merges them into the bucket as it is on disk then (a concurrent run's
    entries are kept).

    Examples
    --------
    >>> cache = ResultCache(Path("/tmp/project"))
    >>> slot = cache.slot(Path(__file__), "cache.py", settings_key("0.1.0", {}))
    >>> cache.load(slot) is None or True
    True
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.directory = root / CACHE_DIR
        self._buckets: dict[Path, dict] = {}
        self._bucket_paths: dict[tuple[str, str], Path] = {}
        self._pending: dict[Path, dict] = {}
        # Answers to dependency checks, shared by the entries read through this object (one run).
        self._resolved: dict[tuple, str | None] = {}
        self._hashed: dict[str, str] = {}

    def slot(self, path: Path, display: str, settings: str) -> Slot:
        """The slot for checking *path* (shown as *display*) under the *settings* key."""
        absolute = os.path.abspath(path)
        key = (os.path.dirname(absolute), settings)
        bucket = self._bucket_paths.get(key)
        if bucket is None:
            name = _blake2b("\0".join(key).encode(), digest_size=16).hexdigest()
            bucket = self._bucket_paths[key] = self.directory / "entries" / name[:2] / f"{name}.json"
        try:
            signature = _stat_signature(path)
        except OSError:
            signature = []
        return Slot(bucket, f"{absolute}\0{display}", path, signature, hashes=self._hashed)

    def load(self, slot: Slot) -> tuple[list, list[str]] | Any | None:
        """The cached ``(diagnostics, notes)`` or cached input error for *slot*, or None on a miss.

        A missing, unreadable, corrupt or stale entry is a miss.
        """
        try:
            entry = self._bucket(slot.bucket).get(slot.name)
            if entry is None or entry.get("sum") != _entry_sum(entry) or not slot.signature or not _same_content(
                slot, entry
            ) or not _same_dependencies(entry["dependencies"], self._resolved, self._hashed):
                return None
            if "error" in entry:
                from bnlint.errors import InputError, NotAModelError

                path, problem, kind = entry["error"]
                return (NotAModelError if kind == "NotAModelError" else InputError)(path, problem)
            return [_decode(item) for item in entry["diagnostics"]], list(entry["notes"])
        except Exception:  # noqa: BLE001 - a bad entry is recomputed, never reported
            return None

    def put(self, slot: Slot, entry: dict | None) -> None:
        """Queue *entry* (from :func:`make_entry`; None when the outcome cannot be cached) for :meth:`flush`."""
        if entry is not None:
            self._pending.setdefault(slot.bucket, {})[slot.name] = entry

    def flush(self) -> bool:
        """Write the queued entries; False when the cache cannot be written (silent: it is an optimisation)."""
        pending, self._pending = self._pending, {}
        try:
            if pending:
                self._prepare()
            for bucket, entries in pending.items():
                merged = self._bucket(bucket, fresh=True)
                merged.update(entries)
                bucket.parent.mkdir(parents=True, exist_ok=True)
                _write_atomically(bucket, json.dumps(merged, separators=(",", ":")).encode())
        except OSError:
            return False
        return True

    def _bucket(self, path: Path, fresh: bool = False) -> dict:
        if fresh or path not in self._buckets:
            try:
                with open(path, "rb") as handle:
                    data = json.loads(handle.read())
                self._buckets[path] = data if isinstance(data, dict) else {}
            except (OSError, ValueError, RecursionError):  # (a damaged bucket is rewritten)
                self._buckets[path] = {}
        return self._buckets[path]

    def _prepare(self) -> None:
        """Create the cache directory with its tag and ``.gitignore`` the first time."""
        tag = self.directory / "CACHEDIR.TAG"
        if tag.is_file():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.directory / ".gitignore", b"# Created by bnlint.\n*\n")
        _write_atomically(tag, CACHEDIR_TAG.encode())


def make_entry(slot: Slot, outcome: Any, lookups: list, reads: dict[str, bytes] | None = None) -> dict | None:
    """The cache entry for *outcome* (a ``FileOutcome`` or an ``InputError``) of the file at *slot*.

    *lookups* are what the interpreter's module lookups depended on (see
    :func:`bnlint.readers.modules.recording_lookups`); *reads* the bytes of
    the modules the check read, by path: the entry records their hashes, so
    a module edited while the file was checked is read again next time. None
    when the outcome cannot be cached (a value JSON cannot carry exactly, a
    file that vanished) or the file itself changed while it was checked (its
    stat signature is not the one taken before it was read: an editor saving
    during a run). Without these, a file or module edited meanwhile would
    keep the findings of its earlier text under its new content, for good.
    Runs in the worker that checked the file, so hashing is parallel too.
    """
    from bnlint.errors import InputError, InternalError, MissingDependencyError

    if isinstance(outcome, (InternalError, MissingDependencyError)):  # (about bnlint or this machine, not the file)
        return None
    try:
        entry: dict[str, Any] = {
            "content": slot.content or content_hash(slot.path),
            "signature": slot.signature,
            "dependencies": _dependencies(lookups, slot.hashes, reads or {}),
        }
        if _stat_signature(slot.path) != slot.signature:
            return None
        if isinstance(outcome, InputError):
            entry["error"] = [outcome.path, outcome.problem, type(outcome).__name__]
        else:
            entry["diagnostics"] = [_encode(d) for d in outcome.diagnostics]
            entry["notes"] = list(outcome.notes)
    except (OSError, _Unencodable):
        return None
    entry["sum"] = _entry_sum(entry)
    return entry


def _entry_sum(entry: dict) -> str:
    """The checksum of everything in *entry* but the checksum: an entry edited or damaged since it
    was written (still valid JSON, but findings on a line "ten") does not match and is recomputed."""
    payload = {key: value for key, value in entry.items() if key != "sum"}
    return data_hash(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())


def clean(root: Path) -> Path | None:
    """Remove the cache directory under *root*; return it, or None when there was none.

    A ``.bnlint_cache`` that is a symlink (to put the cache on another
    disk) is kept, and the directory it points to is emptied, but only when
    that directory's ``CACHEDIR.TAG`` says bnlint made it: ``clean`` never
    empties a directory some other tool or the user put there.

    Raises
    ------
    OSError
        It exists but cannot be removed.
    """
    import shutil

    directory = root / CACHE_DIR
    if not directory.is_dir():
        return None
    if not directory.is_symlink():
        shutil.rmtree(directory)
        return directory
    try:
        tag = (directory / "CACHEDIR.TAG").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if tag != CACHEDIR_TAG:
        return None
    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    return directory


def _same_content(slot: Slot, entry: dict) -> bool:
    if entry["signature"] == slot.signature and sum(item[1] for item in slot.signature) >= _TRUST_STAT_FROM:
        slot.content = entry["content"]
        return True
    slot.content = slot.content or content_hash(slot.path)
    return slot.content == entry["content"]


def _dependencies(lookups: list, hashes: dict[str, str], reads: dict[str, bytes]) -> list:
    """The recorded module lookups, once each, with the content hash of every module found: of the bytes
    the check read (*reads*), else of the file now (memoised in *hashes*)."""
    found = []
    for lookup in dict.fromkeys(tuple(item) for item in lookups):
        if lookup[0] == "module" and lookup[-1] is not None:
            data = reads.get(lookup[-1])
            found.append([*lookup, _module_hash(lookup[-1], hashes) if data is None else data_hash(data)])
        else:
            found.append(list(lookup))
    return found


def _same_dependencies(dependencies: list, resolved: dict, hashed: dict) -> bool:
    """True when every recorded lookup has the same answer, and every module found the same content.

    *resolved* and *hashed* memoise answers within one run (many files import the same helpers).
    """
    if not dependencies:
        return True
    from bnlint.readers.modules import package_of, resolve_module

    for lookup in dependencies:
        query = tuple(lookup[:4]) if lookup[0] == "module" else tuple(lookup[:2])
        if query not in resolved:
            if lookup[0] == "package":
                resolved[query] = package_of(Path(lookup[1]))
            else:
                answer = resolve_module(Path(lookup[1]), lookup[2], lookup[3])
                resolved[query] = str(answer) if answer is not None else None
        if lookup[0] == "package":
            if resolved[query] != lookup[2]:
                return False
            continue
        result = lookup[4]
        if resolved[query] != result:
            return False
        if result is not None and _module_hash(result, hashed) != lookup[5]:
            return False
    return True


def _module_hash(path: str, hashes: dict[str, str]) -> str:
    """The content hash of the module at *path*, computed once per run (*hashes* holds the run's)."""
    found = hashes.get(path)
    if found is None:
        found = hashes[path] = content_hash(Path(path))
    return found


def _write_atomically(path: Path, data: bytes) -> None:
    """Write *data* to a temporary file beside *path* and rename it over *path* (readers never see half)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{_random_suffix()}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _random_suffix() -> str:
    return os.urandom(4).hex()


# --- JSON encoding of findings -------------------------------------------------------------------
#
# Findings are dataclasses (Diagnostic, Site, Fix, intents ...) holding plain values; they are
# encoded field by field with their class name, tuples and enums tagged, so that decoding rebuilds
# equal objects. Only the classes below may be built from an entry.


class _Unencodable(Exception):
    """A value in a finding that JSON cannot carry exactly: the file is not cached."""


def _classes() -> dict[str, type]:
    """The dataclasses of :mod:`bnlint.diagnostics` and :mod:`bnlint.graph`, by name: all an entry may build."""
    global _CLASSES
    if _CLASSES is None:
        from bnlint import diagnostics, graph

        _CLASSES = {
            name: value
            for module in (graph, diagnostics)
            for name, value in vars(module).items()
            if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "__dataclass_fields__")
        }
    return _CLASSES


_CLASSES: dict[str, type] | None = None


def _encode(value: Any) -> Any:
    if value is None or type(value) in (bool, int, float, str):  # not subclasses: str enums are tagged
        return value
    if isinstance(value, tuple):
        return {"$tuple": [_encode(item) for item in value]}
    if type(value) is list:
        return [_encode(item) for item in value]
    if type(value) is dict and all(isinstance(key, str) for key in value):
        return {"$dict": {key: _encode(item) for key, item in value.items()}}
    from bnlint.diagnostics import Applicability

    if isinstance(value, Applicability):
        return {"$applicability": value.value}
    name = type(value).__name__
    if hasattr(value, "__dataclass_fields__") and _classes().get(name) is type(value):
        return {"$": name, **{key: _encode(getattr(value, key)) for key in value.__dataclass_fields__}}
    raise _Unencodable(name)


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$tuple" in value:
        return tuple(_decode(item) for item in value["$tuple"])
    if "$dict" in value:
        return {key: _decode(item) for key, item in value["$dict"].items()}
    if "$applicability" in value:
        from bnlint.diagnostics import Applicability

        return Applicability(value["$applicability"])
    fields = {key: _decode(item) for key, item in value.items() if key != "$"}
    return _classes()[value["$"]](**fields)
