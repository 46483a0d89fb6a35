"""Find the source file of a module a file imports from its own package.

The static interpreter follows calls into sibling modules (``resnet_v2.py``
building on ``resnet.ResNet``) by reading their source too; it never
imports them. Only modules of the importing file's own project are looked
for (relative imports, and absolute imports under the top-level package
the file belongs to: ``keras_hub.src.models.backbone`` from
``keras_hub/src/models/resnet/resnet_backbone.py``): a model file's own
helpers, not installed libraries.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

__all__ = ["package_of", "resolve_module", "recording_lookups", "note_read", "forget_answers"]

# Top-level packages bnlint models instead of reading: checking Keras' own sources (keras.applications),
# only the checked file's own package is read.
_MODELLED = ("keras", "tf_keras", "tensorflow")

# While a ``recording_lookups()`` block runs: the answers resolve_module's result depended on, and
# the bytes of the modules read, by path as looked up and as resolved.
_lookups: list[tuple] | None = None
_reads: dict[str, bytes] | None = None

# resolve_module's answers in this run, each with the lookups it recorded. The files of one package
# import the same modules, and an answer costs several stats and path objects: checking the
# transformers package (1,813 files) spent 38% of its time here before answers were kept.
_answers: dict[tuple, tuple[Path | None, list[tuple]]] = {}


def forget_answers() -> None:
    """Look files and packages up afresh from now on: a new run may see files that came or went."""
    _answers.clear()
    package_of.cache_clear()


class recording_lookups:
    """Record what :func:`resolve_module` answers inside the block depended on (the result cache's dependencies).

    A file's findings depend on the sibling modules it imports, and on which
    of them exist. ``with recording_lookups() as lookups:`` collects
    ``("package", directory, package_name)`` for every package looked up
    (an import outside the package resolves to nothing whatever the files
    are) and ``("module", file, module, level, found)`` for every query that
    looked for files, so that a cached result can be checked against the
    same questions later.

    Examples
    --------
    >>> with recording_lookups() as lookups:
    ...     _ = resolve_module(Path("/nonexistent/m.py"), "blocks")
    >>> lookups
    [('package', '/nonexistent', None), ('module', '/nonexistent/m.py', 'blocks', 0, None)]
    """

    def __enter__(self) -> list[tuple]:
        global _lookups, _reads
        self._outer, _lookups = _lookups, []
        self._outer_reads, _reads = _reads, {}
        #: The bytes of every module read inside the block (:func:`note_read`), by path.
        self.reads = _reads
        return _lookups

    def __exit__(self, *exc_info: object) -> None:
        global _lookups, _reads
        _lookups, _reads = self._outer, self._outer_reads


def note_read(data: bytes, *paths: Path) -> None:
    """Inside a :class:`recording_lookups` block, note that a module at *paths* (its path as looked up,
    and resolved) was read as *data*: the result cache keys on what was read, not on the file later."""
    if _reads is not None:
        for path in paths:
            _reads.setdefault(str(path), data)


@lru_cache(maxsize=256)
def package_of(directory: Path) -> str | None:
    """The dotted package name of *directory*, from the ``__init__.py`` files above it."""
    parts: list[str] = []
    directory = directory.resolve()  # Path(".").parent is Path("."): walk real directories
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.append(directory.name)
        directory = directory.parent
    return ".".join(reversed(parts)) or None


def resolve_module(file: Path, module: str | None, level: int = 0) -> Path | None:
    """The source file of *module* imported from *file*, when it is a module of the same package.

    *level* counts the leading dots of a relative import (``from .blocks
    import x`` is ``module="blocks", level=1``). Answers are kept until
    :func:`forget_answers`.
    """
    global _lookups
    key = (file, module, level)
    known = _answers.get(key)
    if known is None:
        outer, _lookups = _lookups, []
        try:
            known = _answers[key] = (_resolve(file, module, level), _lookups)
        finally:
            _lookups = outer
    if _lookups is not None:
        _lookups.extend(known[1])
    return known[0]


def _resolve(file: Path, module: str | None, level: int) -> Path | None:
    directory = file.parent
    fallback = None  # where to look when *directory* does not have it
    if level:
        for _ in range(level - 1):
            directory = directory.parent
        relative = module.split(".") if module else []
    else:
        package = package_of(directory)
        _lookups.append(("package", str(directory), package))
        if not module or not package or module.split(".")[0] != package.split(".")[0]:
            if package is None and module and module.split(".")[0] not in _MODELLED:
                # A script beside its helper module or package (`import blocks`, `from yolo3.model import
                # yolo_body`), or, in a directory without __init__.py run from the one above it, a module
                # there: of this directory (yolo3/model.py: `from yolo3.utils import compose`) or of a
                # sibling one (nets/CSPdarknet53.py: `from utils.utils import compose`).
                relative = module.split(".")
                fallback = directory.resolve().parent
            else:
                return None
        elif module.startswith(package + "."):
            relative = module[len(package) + 1:].split(".")
        elif package.split(".")[0] in _MODELLED:
            return None  # Keras' own modules elsewhere in Keras are modelled, not read (keras.src.initializers)
        else:
            directory = directory.resolve()  # (a relative "." has no parent to walk up to)
            for _ in range(package.count(".") + 1):  # up from the file's package to above the top-level one
                directory = directory.parent
            relative = module.split(".")
    if not relative:
        return None
    found = _find_source(file, directory.joinpath(*relative))
    if found is None and fallback is not None:
        found = _find_source(file, fallback.joinpath(*relative))
    _lookups.append(("module", str(file), module, level, None if found is None else str(found)))
    return found


def _find_source(file: Path, candidate: Path) -> Path | None:
    for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
        # samefile: two stats, where comparing resolved paths costs an lstat per path component.
        if path.is_file() and not (file.exists() and os.path.samefile(path, file)):
            return path
    return None
