"""bnlint's own file I/O around reports: atomic output files, and sources read back.

Reports, baselines and folded models are written atomically: a reader of the file never
sees it half-written, because the text goes to a temporary file in the same
directory, which is then renamed over the target (an existing file keeps
its permissions). Reports that quote or edit the flagged source (baseline
keys, SARIF fixes) read each file back once through :class:`SourceTexts`.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from bnlint.errors import InputError, UserError

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from typing import BinaryIO, Callable

__all__ = ["write_atomically", "write_text_atomically", "SourceTexts"]


def write_text_atomically(path: Path, text: str) -> None:
    """Replace *path*'s content with *text* (UTF-8) through a temporary file and a rename.

    A character UTF-8 cannot hold (a file name's undecodable byte, kept by Python as a lone
    surrogate) is written as a backslash escape, as on standard output.

    Raises
    ------
    InputError
        The file cannot be written.
    """
    write_atomically(path, lambda out: out.write(text.encode("utf-8", "backslashreplace")))


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call *write* on a temporary binary file beside *path*, then rename it over *path*.

    An existing file keeps its permissions; a new one gets the umask's. If
    *write* raises, the temporary file is removed and *path* is untouched.
    A symbolic link stays a link: the file it points to is replaced. A path
    that is not a regular file (``/dev/stdout``, a named pipe, a shell's
    ``>(...)``) is written directly, as there is nothing to replace.

    Raises
    ------
    InputError
        The file cannot be written.
    """
    shown = path
    path = Path(path)
    try:
        try:
            mode = os.stat(path).st_mode  # (through symbolic links)
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            with open(path, "wb") as out:
                write(out)
            return
        if path.is_symlink():
            path = Path(os.path.realpath(path))
        handle, temporary = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.",
                                             suffix=".bnlint")
        try:
            with os.fdopen(handle, "wb") as out:
                write(out)
            if path.exists():
                os.chmod(temporary, path.stat().st_mode & 0o7777)
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(temporary, 0o666 & ~umask)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        raise InputError(shown, f"cannot be written ({error.strerror or error})") from None


class SourceTexts:
    """Source files read back by their displayed path, each once; None for a file that cannot be read."""

    def __init__(self, given: dict[str, str] | None = None) -> None:
        #: *given*: texts by displayed path that are not read from disk (standard input's source).
        self._texts: dict[str, str | None] = dict(given or {})

    def get(self, path: str) -> str | None:
        """The text of the file bnlint displayed as *path*, or None when it cannot be read now.

        A notebook's text is its code cells as one source, as bnlint reads it.
        """
        if path not in self._texts:
            from bnlint.readers import source_text

            try:
                self._texts[path] = source_text(Path(path), path)
            except UserError:
                self._texts[path] = None
        return self._texts[path]
