"""Billing file ingest, parsing: billing_file_stream run off the event loop, in a thread for
small files or in a process of its own from PROCESS_FROM_BYTES on, its items queued.
"""
from __future__ import annotations

import fcntl
import os
import pickle
import queue
import subprocess
import sys
import threading
from typing import IO

from ppas.services import billing_file_stream
from ppas.services.billing_ingest.reading import _CountingReader

BATCH_SIZE = 2500
# From this size on, the file is parsed in a process of its own (about 3,000 lines; starting
# it costs some 40 ms, the parsing of a 100,000-line file then stops sharing the GIL).
PROCESS_FROM_BYTES = 1024 * 1024
_READ_CHUNK = billing_file_stream.READ_CHUNK
_PIPE_BYTES = 1024 * 1024


_TERMINAL_ITEMS = frozenset({"end", "refused", "invalid", "truncated", "crash"})
_ITEM_KINDS = _TERMINAL_ITEMS | {"header", "lines"}


class _Stopped(Exception):
    """The event loop gave up on this upload: the worker stops."""


class _Worker:
    """Streams the file (billing_file_stream) off the event loop and queues its items."""

    def __init__(self, source: IO[bytes], keep_content: bool) -> None:
        self.source = source
        self.reader = _CountingReader(source, keep_content)
        self.out: queue.Queue = queue.Queue(maxsize=2)
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def _put(self, item: tuple) -> None:
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Stopped

    def _thread(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)

    def read_to_the_end(self) -> None:
        """Wait until the reader has hashed (and compressed) the whole source."""

    def stop_now(self) -> None:
        """Tell the parsing to stop, without waiting: safe on the event loop, never blocks."""
        self.stop.set()

    def close(self) -> None:
        """Stop and wait (in a thread: joins block). The source is free again afterwards."""
        self.stop_now()
        for thread in self.threads:
            thread.join(30)


class _ParseThread(_Worker):
    """Parses in a thread of this process: small files, for which starting a process costs more."""

    def start(self) -> None:
        self._thread(self._run, "ingest parse")

    def _put_drained(self, item: tuple) -> None:
        if item[0] == "end":
            self.reader.drain()  # what follows the root counts in the hash and size too
        self._put(item)

    def _run(self) -> None:
        try:
            billing_file_stream.run(self.reader, BATCH_SIZE, self._put_drained)
        except _Stopped:
            pass
        except BaseException as error:  # noqa: BLE001 - handed over to the event loop
            try:
                self._put(("crash", error))
            except _Stopped:
                pass


# What the interpreter may need from the environment; nothing else (PPAS_SECRET_KEY,
# DATABASE_URL, mail passwords…) reaches the process that parses what partners upload.
_CHILD_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LD_LIBRARY_PATH", "TMPDIR")


def _child_environment() -> dict[str, str]:
    env = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
    # The child finds the packages where this process found them.
    env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
    return env


class _ItemUnpickler(pickle.Unpickler):
    """Reads the parse process's items: tuples, lists, str, int, float, nothing that is looked up.

    The items are made of those only (see billing_file_stream). Refusing every global means that
    bytes which are not the child's own pickles (a stream cut short, anything that reached its
    stdout) cannot build or call an object here.
    """

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a parse item")


def _is_item(item: object) -> bool:
    if type(item) is not tuple or not item or type(item[0]) is not str:
        return False
    # The child reports its crashes as text (billing_file_stream._main).
    return item[0] in _ITEM_KINDS and (item[0] != "crash" or type(item[-1]) is str)


class _ParseProcess(_Worker):
    """Parses in a process of its own (large files): the file goes to its stdin from a thread
    that also hashes and compresses it; another thread queues the items it sends back.
    """

    process: subprocess.Popen | None = None  # until start() has spawned it

    def start(self) -> None:
        # -P: the working directory does not go first on the child's path (a module there
        # would shadow lxml or ppas); -s: no user site beyond what this process uses.
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-s", "-m", billing_file_stream.__name__, str(BATCH_SIZE)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_child_environment())
        # Pipes of 1 MiB (Linux; 64 KiB otherwise) and writes of 1 MiB: the threads here
        # get the GIL every few milliseconds only, the child must not wait on them.
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
            except (AttributeError, OSError):
                pass
        self._thread(self._feed, "ingest feed")
        self._thread(self._relay, "ingest relay")

    def read_to_the_end(self) -> None:
        self.threads[0].join()  # the feeder: the child reads its stdin to the end

    def _feed(self) -> None:
        writing = True
        try:
            while not self.stop.is_set() and (data := self.reader.read(_PIPE_BYTES)):
                if writing:
                    try:
                        self.process.stdin.write(data)
                    except (BrokenPipeError, ValueError):
                        writing = False  # the child stopped early (refusal): hash on anyway
        finally:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass

    def _relay(self) -> None:
        try:
            while True:
                try:
                    # One unpickler an item: each was pickled on its own (memo from 0).
                    item = _ItemUnpickler(self.process.stdout).load()
                except EOFError:
                    item = ("crash", RuntimeError(
                        f"the parse process stopped (exit status {self.process.wait()})"))
                except Exception as error:  # noqa: BLE001 - cut short or not our items
                    self.process.kill()
                    item = ("crash", RuntimeError(
                        f"the parse process sent an unreadable item ({error}; exit status "
                        f"{self.process.wait()})"))
                if not _is_item(item):
                    self.process.kill()
                    item = ("crash", RuntimeError("the parse process sent an unexpected item "
                                                  f"(exit status {self.process.wait()})"))
                if item[0] == "crash" and isinstance(item[1], str):
                    item = ("crash", RuntimeError(f"the parse process failed: {item[1]}"))
                self._put(item)
                if item[0] in _TERMINAL_ITEMS:
                    return
        except _Stopped:
            pass

    def stop_now(self) -> None:
        super().stop_now()
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    def close(self) -> None:
        super().close()
        if self.process is not None:
            self.process.wait()
            self.process.stdin.close()
            self.process.stdout.close()


def _worker_for(source: IO[bytes], size: int, keep_content: bool) -> _Worker:
    if size >= PROCESS_FROM_BYTES:
        return _ParseProcess(source, keep_content)
    return _ParseThread(source, keep_content)
