"""Writing bnlint's own output files (reports, baselines) atomically.

A reader of the file never sees it half-written: the text goes to a
temporary file in the same directory, which is then renamed over the
target. An existing file keeps its permissions.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bnlint.errors import InputError

__all__ = ["write_text_atomically"]


def write_text_atomically(path: Path, text: str) -> None:
    """Replace *path*'s content with *text* (UTF-8) through a temporary file and a rename.

    Raises
    ------
    InputError
        The file cannot be written.
    """
    path = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.",
                                             suffix=".bnlint")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(text)
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
        raise InputError(path, f"cannot be written ({error.strerror or error})") from None
