"""A small pool of forked worker processes, for checking many files at once.

``concurrent.futures.ProcessPoolExecutor`` costs a ``bnlint check`` run
about 30 ms before any file is checked: 20 ms of imports (multiprocessing,
threading, queue, socket, ...) and its threads and queues. Forking
directly costs a millisecond or two, and the forked workers inherit
everything the parent has imported and computed, so a task is just a
number.

Tasks are numbered and the numbers are written, four bytes each, into one
pipe before the workers start; each worker reads four bytes at a time (a
pipe read that small is atomic, so no two workers get the same task) and
stops at the end of the pipe. Each worker writes its results, pickled and
length-prefixed, to a pipe of its own, which the parent reads as results
arrive. Only where ``os.fork`` exists (POSIX); callers run serially elsewhere.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing is not imported at run time (see bnlint.records)
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["WorkerError", "MAX_TASKS", "can_fork", "run_forked"]

#: Task numbers must fit in a pipe's buffer (64 KiB on Linux, 16 KiB on macOS) before the workers start.
MAX_TASKS = 4000
_TASK = 4  # bytes per task number
_LENGTH = 8  # bytes of a result's length prefix


class WorkerError(RuntimeError):
    """A worker raised (the message holds its traceback) or died."""


def can_fork() -> bool:
    """True when workers can be forked here."""
    return hasattr(os, "fork")


def run_forked(tasks: list, function: Callable[[Any], Any], workers: int, done: Callable[[Any], None]) -> None:
    """``function(task)`` for every task, in *workers* forked processes; ``done(result)`` here per result.

    Results arrive in the order the workers finish them. A worker's
    exception is raised here as :class:`WorkerError`, after every worker has
    been stopped.
    """
    import pickle

    if len(tasks) > MAX_TASKS:
        raise ValueError(f"at most {MAX_TASKS} tasks, not {len(tasks)}: make the tasks bigger")
    task_read, task_write = os.pipe()
    numbers = b"".join(n.to_bytes(_TASK, "little") for n in range(len(tasks)))
    if os.write(task_write, numbers) != len(numbers):  # fits the pipe's buffer: written whole
        os.close(task_read)
        os.close(task_write)
        raise WorkerError("could not queue the tasks")
    children: dict[int, int] = {}  # result pipe -> pid
    finished = False
    restore = _on_termination()
    try:
        for _ in range(workers):
            result_read, result_write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: it never returns
                os.close(task_write)
                os.close(result_read)
                for other in children:
                    os.close(other)
                _work(tasks, function, task_read, result_write, pickle)
            os.close(result_write)
            children[result_read] = pid
        os.close(task_write)  # the workers see the end of the tasks once the pipe is empty
        task_write = -1
        _collect(children, len(tasks), done, pickle)
        finished = True
    finally:
        for fd in (task_read, task_write):
            if fd >= 0:
                os.close(fd)
        _stop(children, kill=not finished)
        restore()


def _terminated(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _on_termination() -> Callable[[], object]:
    """Make SIGTERM (``kill PID``, ``docker stop``) unwind the parent, whose ``finally`` stops the workers
    (they would otherwise finish their tasks orphaned); return what puts the previous handler back."""
    import signal

    try:
        previous = signal.signal(signal.SIGTERM, _terminated)
    except ValueError:  # not the main thread: signals are not ours to handle there
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, previous)


def _work(tasks: list, function, task_read: int, result_write: int, pickle) -> None:
    """In a worker: take tasks until there are none, send each result (or the error) back, exit."""
    status = 0
    try:
        while True:
            number = os.read(task_read, _TASK)
            if len(number) < _TASK:
                break
            try:
                message = (True, function(tasks[int.from_bytes(number, "little")]))
                payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - reported to the parent, which raises it
                import traceback

                message = (False, traceback.format_exc())
                payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            _write_all(result_write, len(payload).to_bytes(_LENGTH, "little") + payload)
            if not message[0]:
                break
    except BaseException:  # noqa: BLE001 - Ctrl-C, or the parent went away: just stop
        status = 1
    finally:
        os._exit(status)  # never the parent's exit handlers or buffered output


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _collect(children: dict[int, int], expected: int, done, pickle) -> None:
    """Read results from the workers' pipes until every task's result has come."""
    import select

    buffers = {fd: bytearray() for fd in children}
    received = 0
    while buffers:
        ready, _, _ = select.select(list(buffers), [], [])
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            buffer = buffers[fd]
            if not chunk:  # the worker has finished (or died)
                del buffers[fd]
                if buffer:
                    raise WorkerError("a worker stopped in the middle of sending a result")
                continue
            buffer += chunk
            while len(buffer) >= _LENGTH:
                size = int.from_bytes(buffer[:_LENGTH], "little")
                if len(buffer) < _LENGTH + size:
                    break
                ok, value = pickle.loads(bytes(buffer[_LENGTH:_LENGTH + size]))
                del buffer[:_LENGTH + size]
                if not ok:
                    raise WorkerError(f"a worker failed:\n{value}")
                received += 1
                done(value)
    if received < expected:
        raise WorkerError(f"a worker process died: {expected - received} of {expected} tasks have no result")


def _stop(children: dict[int, int], kill: bool) -> None:
    """Close the result pipes and reap the workers; with *kill*, stop those still running first."""
    import signal

    for fd, pid in children.items():
        os.close(fd)
        try:
            if kill:
                os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
        except (ChildProcessError, ProcessLookupError):
            pass
    children.clear()
