"""The ``bnlint`` command line.

``bnlint check [PATH ...]`` lints; ``bnlint PATH`` and ``bnlint --fix PATH``
mean ``bnlint check ...``. ``bnlint rule [CODE|NAME]`` documents rules and
``bnlint graph PATH`` shows the layer graphs bnlint recovered, and
``bnlint fold IN OUT`` folds BatchNormalization in a saved model.

Exit codes: 0 no findings, 1 findings, 2 something could not be checked
(each such problem is one sentence on standard error; other files are
still checked).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import sys

from bnlint import __version__
from bnlint.errors import UserError, internal_error

TYPE_CHECKING = False  # typing is not imported at run time: it costs a cached run 2 ms
if TYPE_CHECKING:
    from typing import Sequence, TextIO

__all__ = ["main", "run"]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_COMMANDS = ("check", "rule", "graph", "fold", "clean")


class _HelpFormatter(argparse.HelpFormatter):
    # argparse's own default width imports shutil (and with it zlib, bz2, lzma) while the parser is
    # built, on every run: a sixth of a cached run. The terminal width comes from os as well.
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        if width is None:
            try:
                width = int(os.environ.get("COLUMNS", "")) - 2
            except ValueError:
                try:
                    width = os.get_terminal_size(sys.stdout.fileno()).columns - 2
                except (AttributeError, ValueError, OSError):
                    width = 78
        super().__init__(prog, indent_increment, max_help_position, width)


class _ArgumentParser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:
        # argparse exits 2 too, after its usage block; ours is the one line every other error gets.
        _refuse(f"{message} (see `{self.prog} --help`)")


def _codes(value: str) -> list[str]:
    codes = [item.strip() for item in value.split(",") if item.strip()]
    if not codes:  # (`--select "$RULES"` with RULES unset would otherwise run no rule and pass)
        raise argparse.ArgumentTypeError(f"expects rule codes, prefixes, names or ALL, comma-separated, not {value!r}")
    return codes


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expects a positive whole number of processes, not {value!r}")
    return jobs


def _build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="bnlint", description="Lint the BatchNormalization structure of Keras models.")
    parser.add_argument("--version", action="version", version=f"bnlint {__version__}")
    commands = parser.commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                                       parser_class=_ArgumentParser)

    check = commands.add_parser("check", help="lint model sources (the default command)")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="files or directories (default: .); - reads Python source from standard input")
    check.add_argument("--stdin-filename", metavar="PATH",
                       help="the file the source on standard input is (its name in findings, its configuration "
                            "and the modules its imports name); implies -")
    check.add_argument("--select", type=_codes, action="extend", metavar="CODES",
                       help="run only these rules (codes, code prefixes, names or ALL; comma-separated)")
    check.add_argument("--ignore", type=_codes, action="extend", default=[], metavar="CODES",
                       help="do not run these rules")
    check.add_argument("--extend-select", type=_codes, action="extend", default=[], metavar="CODES",
                       help="run these rules in addition to the selected ones")
    check.add_argument("--output-format", choices=("text", "json", "github", "sarif", "junit"), default="text",
                       help="how findings are printed (default: text)")
    check.add_argument("--output-file", metavar="PATH", help="write the report to PATH instead of standard output")
    check.add_argument("--write-baseline", metavar="FILE",
                       help="record the current findings in FILE (a baseline) and exit 0")
    check.add_argument("--baseline", metavar="FILE", help="report only findings that the baseline FILE does not record")
    check.add_argument("--show-stale-baseline", action="store_true",
                       help="with --baseline, list baseline entries that no longer match a finding")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--statistics", action="store_true", help="print the number of findings per rule")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply exclude patterns to paths named on the command line too")
    check.add_argument("--fix", action="store_true", help="apply safe fixes to the source")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix or --diff, also apply fixes that change how the model trains")
    check.add_argument("--diff", action="store_true",
                       help="print the fixes as a unified diff instead of writing them (exit 1 if any)")
    check.add_argument("--show-fixes", action="store_true", help="list the fixes applied")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    check.add_argument("-j", "--jobs", type=_jobs, metavar="N",
                       help="check files in N processes (default: one per CPU this process may use; 1: no workers)")

    clean = commands.add_parser("clean", help="remove the result cache (.bnlint_cache) of the project")
    clean.add_argument("paths", nargs="*", metavar="PATH", help="files or directories whose project to clean (default: .)")

    rule = commands.add_parser("rule", help="show a rule's documentation, or the table of rules")
    rule.add_argument("rule", nargs="?", metavar="CODE|NAME")

    graph = commands.add_parser("graph", help="show the layer graphs read from PATH")
    graph.add_argument("paths", nargs="+", metavar="PATH")
    graph.add_argument("--format", choices=("text", "json", "mermaid", "dot"), default="text")

    fold = commands.add_parser("fold", help="fold BatchNormalization into the layers next to it (saved models)")
    fold.add_argument("input", metavar="IN",
                      help="a Keras 3 .keras or .h5 model, or a Keras 2 (tf_keras) .h5 or .keras model")
    fold.add_argument("output", metavar="OUT", help="where to write the folded model (.keras, or .h5)")
    fold.add_argument("--fold-preceding", action="store_true",
                      help="also fold a BN into the layer after it (valid padding only) when it cannot fold backward")
    fold.add_argument("--verify", action="store_true",
                      help="run both models with Keras on a random batch of 8 and compare (exit 1 if they differ)")
    fold.add_argument("--report", choices=("text", "json"), default="text", help="report format")
    fold.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    fold.add_argument("-v", "--verbose", action="store_true", help="list every folded BN, not only the refused ones")
    return parser


def _normalise(argv: list[str]) -> list[str]:
    """``bnlint PATH`` and ``bnlint --fix PATH`` mean ``bnlint check ...``."""
    if not argv or argv[0] in ("-h", "--help", "--version") or argv[0] in _COMMANDS:
        return argv if argv else ["check"]
    return ["check", *argv]


def run() -> None:
    """The ``bnlint`` command (console script and ``python -m bnlint``): :func:`main`, then exit.

    Two things make a command-line run faster without changing what it does:

    - The garbage collector's young generation is collected every 100,000
      allocations instead of every 700. Reading a large module allocates
      millions of AST nodes that live until the file is done, and the default
      thresholds kept traversing them: checking TensorFlow's own sources
      (1,847 files) took 24-26 s instead of 12-14 s, at a peak of 220 MB per
      process instead of 290 MB (less frequent older collections, or none,
      cost more memory for little more speed). Forked workers inherit it.
    - Once its output is flushed, the process ends with ``os._exit`` instead
      of freeing every object it made: after a big file that took seconds.
      Every file bnlint writes is closed (and renamed into place) before
      :func:`main` returns.
    """
    gc.set_threshold(100_000, 10, 10)
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`bnlint check | head`) or stream
            pass
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _build_parser()
    args, extra = parser.parse_known_args(_normalise(list(sys.argv[1:] if argv is None else argv)))
    if extra:  # (argparse's own message would point at `bnlint --help`, not at the command's options)
        command = parser.commands.choices.get(args.command, parser) if args.command else parser
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "check":
        _validate_check_options(args)
    try:
        if args.command == "rule":
            return _rule(args.rule, sys.stdout)
        if args.command == "graph":
            return _graph(args.paths, args.format, sys.stdout)
        if args.command == "fold":
            return _fold(args, sys.stdout)
        if args.command == "clean":
            return _clean(args.paths or ["."], sys.stdout)
        return _check(args, sys.stdout)
    except UserError as error:
        _error(str(error))
        return EXIT_ERROR
    except BrokenPipeError:  # `bnlint check | head`
        sys.stderr.close()
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _warn(notes) -> None:
    """One ``bnlint: warning:`` line on standard error per note."""
    from bnlint.reporters.text import one_line

    for note in notes:
        sys.stderr.write(f"bnlint: warning: {one_line(str(note))}\n")


def _error(message: str) -> None:
    from bnlint.reporters.text import one_line

    sys.stderr.write(f"bnlint: error: {one_line(str(message))}\n")


def _refuse(message: str) -> None:
    """Stop on a command line bnlint cannot run: one error line, exit 2."""
    _error(message)
    raise SystemExit(EXIT_ERROR)


def _validate_check_options(args: argparse.Namespace) -> None:
    if args.statistics and args.output_format not in ("text", "json"):
        _refuse(f"--statistics works with --output-format text or json, not {args.output_format}")
    if args.show_stale_baseline and not args.baseline:
        _refuse("--show-stale-baseline needs --baseline FILE")
    for option, value in (("--output-file", args.output_file), ("--write-baseline", args.write_baseline),
                          ("--baseline", args.baseline)):
        if value == "":
            _refuse(f"{option} needs a file name, not an empty string")
    if args.write_baseline and (args.baseline or args.diff or args.output_file):
        _refuse("--write-baseline cannot be combined with --baseline, --diff or --output-file")
    if "-" in args.paths and args.paths != ["-"] or args.stdin_filename is not None and args.paths not in ([], ["-"]):
        _refuse("standard input (- or --stdin-filename) is checked alone, without other paths")


def _check(args: argparse.Namespace, out: TextIO) -> int:
    if args.output_file is None:
        if out is sys.stdout and isinstance(out, io.TextIOWrapper):
            _configure_stdout(out, args.output_format)
        return _check_to(args, out)
    from io import StringIO

    from bnlint.files import write_text_atomically

    buffer = StringIO()
    code = _check_to(args, buffer)
    write_text_atomically(args.output_file, buffer.getvalue())
    return code


def _configure_stdout(out: io.TextIOWrapper, output_format: str) -> None:
    """Machine-readable reports go out in UTF-8 whatever the locale (JSON and SARIF must be, and the
    JUnit document says it is); nothing printed ever stops the run on a character the encoding lacks
    (a file name that is not UTF-8, a U+2028 in cp1252): it is written as a backslash escape
    (``\\udcff``, which in a JSON string is the same character)."""
    if output_format != "text":
        out.reconfigure(encoding="utf-8", errors="backslashreplace")
    elif out.errors == "strict":
        out.reconfigure(errors="backslashreplace")


def _filter_by_baseline(args: argparse.Namespace, baseline, report) -> None:
    """Keep the findings *baseline* does not record; say what it hid and, if asked, what is stale."""
    from bnlint.baseline import apply_baseline, describe_key

    result = apply_baseline(baseline, report.diagnostics, report.checked_paths, report.source_texts(),
                            report.rules_run() if args.show_stale_baseline else None,
                            [path for path in args.paths or ["."] if path != "-" and os.path.isdir(path)])
    report.diagnostics = result.new
    if result.matched:
        sys.stderr.write(f"bnlint: {result.matched} finding{'s' if result.matched != 1 else ''} "
                         f"recorded in the baseline {args.baseline} not reported.\n")
    if args.show_stale_baseline:
        for key, count in result.stale:
            times = f" ({count} occurrences)" if count > 1 else ""
            sys.stderr.write(f"bnlint: stale baseline entry: {describe_key(key)}{times}\n")


def _check_to(args: argparse.Namespace, out: TextIO) -> int:
    from bnlint.checker import FixMode, Selection, check_paths
    from bnlint.reporters import REPORTERS

    baseline = None
    if args.baseline:
        from bnlint.baseline import load_baseline

        baseline = load_baseline(args.baseline)  # a malformed baseline stops the run before any file is read

    fixing = args.fix or args.diff
    fix = FixMode(write=not args.diff, unsafe=args.unsafe_fixes) if fixing else None
    selection = Selection(
        tuple(args.select) if args.select is not None else None, tuple(args.ignore), tuple(args.extend_select)
    )
    stdin = None
    source_out = False  # the source read from standard input goes back to standard output, fixed
    if args.paths == ["-"] or args.stdin_filename is not None:
        source_out = fix is not None and fix.write
        text, encoding = _read_stdin(args.stdin_filename or "-", echo=source_out)
        stdin = (text, args.stdin_filename)
        if source_out and out is sys.stdout:
            # As formatters and ruff do: the report goes beside it.
            out = sys.stderr
    # check_paths validates the command-line selectors before reading any file.
    try:
        report = check_paths(args.paths or ["."], selection, args.force_exclude, fix=fix, cache=not args.no_cache,
                             jobs=args.jobs, progress=True, stdin=stdin)
    except UserError:
        if source_out:  # (an unknown selector, an invalid configuration): the buffer comes back as it went in
            sys.stdout.flush()
            sys.stdout.buffer.write(text.encode(encoding))
        raise
    if source_out:
        # (as it came when it could not be read or fixed: an editor piping a buffer through keeps it)
        # In the encoding it came in (a latin-1 coding line stays true), as --fix writes a file.
        sys.stdout.flush()
        sys.stdout.buffer.write(report.text.encode(encoding))
    if args.write_baseline:
        return _write_baseline(args.write_baseline, report)
    if baseline is not None:
        _filter_by_baseline(args, baseline, report)
    if args.diff:
        for diff, encoding in zip(report.diffs, report.diff_encodings):
            _write_in(out, diff, encoding)
        count = len(report.fixed)
        sys.stderr.write(f"Would fix {count} finding{'s' if count != 1 else ''}.\n" if count else "No fixes to apply.\n")
    else:
        REPORTERS[args.output_format](report, out, args.statistics, args.show_fixes)
    _warn(report.notes)
    for error in report.errors:
        _error(str(error))
    if report.errors:
        return EXIT_ERROR
    if args.diff:
        return EXIT_FINDINGS if report.diffs and not args.exit_zero else EXIT_CLEAN
    return EXIT_FINDINGS if report.diagnostics and not args.exit_zero else EXIT_CLEAN


def _write_in(out: TextIO, text: str, encoding: str) -> None:
    """*text* written to *out* in *encoding*: a diff of a latin-1 file holds its bytes, as `patch` needs."""
    buffer = getattr(out, "buffer", None)
    if buffer is None or encoding.replace("-", "").lower() in ("utf8", "utf8sig"):
        out.write(text)
        return
    out.flush()
    buffer.write(text.encode(encoding, errors="backslashreplace"))
    buffer.flush()


def _read_stdin(display: str, echo: bool) -> tuple[str, str]:
    """Standard input as text, decoded as a source file is (UTF-8 unless a coding line says otherwise),
    and that encoding.

    With *echo* (fixing), bytes that cannot be decoded go back to standard output as they came.
    """
    from bnlint.errors import InputError
    from bnlint.readers.python_source import decode_source

    data = sys.stdin.buffer.read()
    try:
        source = decode_source(data, display)
        return source.text, source.encoding
    except InputError as error:
        if echo:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
        raise InputError(display, f"(standard input) {error.problem}") from None


def _fold(args: argparse.Namespace, out: TextIO) -> int:
    from bnlint.folding import fold_file

    report = fold_file(args.input, args.output, fold_preceding=args.fold_preceding, force=args.force,
                       verify=args.verify, progress=True)
    if args.report == "json":
        json.dump(report.to_dict(), out, indent=2)
        out.write("\n")
    else:
        out.write(report.text(args.verbose))
    _warn(report.notes)
    if report.verify_error is not None:
        _error(report.verify_error)
        return EXIT_ERROR
    if report.verify is not None and not report.verify.passed:
        _error(f"{args.output}: the folded model's outputs differ from the original's beyond the tolerance")
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _write_baseline(path: str, report) -> int:
    from bnlint.baseline import write_baseline

    _warn(report.notes)
    for error in report.errors:
        _error(str(error))
    if report.errors:  # a baseline missing the findings of unreadable files would hide them later
        _error(f"{path}: baseline not written because some files could not be checked")
        return EXIT_ERROR
    count = write_baseline(path, report.diagnostics, report.source_texts())
    sys.stderr.write(f"bnlint: recorded {count} finding{'s' if count != 1 else ''} in the baseline {path}.\n")
    return EXIT_CLEAN


def _clean(paths: list[str], out: TextIO) -> int:
    """Remove the result cache of the project each path belongs to (see bnlint.cache)."""
    from pathlib import Path

    from bnlint.cache import clean
    from bnlint.config import find_config
    from bnlint.discovery import path_problem

    roots = []
    for argument in paths:
        path = Path(argument)
        problem = path_problem(argument, path)
        if problem is not None:
            raise UserError(f"{argument or repr('')}: {problem}")
        root = find_config(path).root.resolve()
        if root not in roots:
            roots.append(root)
    for root in roots:
        try:
            removed = clean(root)
        except OSError as error:
            raise UserError(f"{root}: cannot remove the cache ({error.strerror or error})") from None
        if removed is None:
            out.write(f"No cache to remove in {root}\n")
        elif removed.is_symlink():  # (the link stays: it says where the user wants the cache)
            out.write(f"Emptied {removed.resolve()} (the cache {removed} links to)\n")
        else:
            out.write(f"Removed {removed}\n")
    return EXIT_CLEAN


def _rule(key: str | None, out: TextIO) -> int:
    from bnlint.engine import find_rule

    if key is None:
        out.write(rule_table() + "\n")
        return EXIT_CLEAN
    rule = find_rule(key)
    if rule is None:
        raise UserError(f"unknown rule '{key}' (run `bnlint rule` for the list)")
    out.write(rule.documentation())
    return EXIT_CLEAN


def rule_table() -> str:
    """The Markdown table of rules, as in the README."""
    from bnlint.engine import all_rules

    rows = ["| code | name | summary | default | fix | options |", "| --- | --- | --- | --- | --- | --- |"]
    for code, rule in all_rules().items():
        options = ", ".join(f"`{key}`" for key in rule.options)
        rows.append(
            f"| {code} | {rule.name} | {rule.summary} | {'on' if rule.default else 'off'} | {rule.fix or ''} | {options} |"
        )
    return "\n".join(rows)


def _graph(paths: list[str], fmt: str, out: TextIO) -> int:
    from bnlint.discovery import discover
    from bnlint.readers import read_path

    targets, errors = discover(paths)
    models = []
    findings = []  # (graph, rule codes by node), for the drawings
    notes: list[str] = []
    for target in targets:
        try:
            result = read_path(target.path, target.display)
            if fmt in ("mermaid", "dot"):
                findings.extend(_graph_findings(result, target.config))
            if result.notebook:
                from bnlint.readers.notebook import show_in_cells

                show_in_cells(result)
        except UserError as error:
            errors.append(error)
            continue
        except Exception as error:  # noqa: BLE001 - a bug of ours: one line for this file, the others go on
            errors.append(internal_error(target.display, error))
            continue
        models.extend(result.graphs)
        notes.extend(result.notes)
    _warn(dict.fromkeys(notes))  # (a limit met in a module many files import: once)
    if fmt == "json":
        json.dump([graph.to_dict() for graph in models], out, indent=2)
        out.write("\n")
    elif fmt in ("mermaid", "dot"):
        from bnlint import drawing

        out.write(getattr(drawing, fmt)(findings))
        if fmt == "mermaid":
            _warn(drawing.mermaid_warnings(findings))
    else:
        for graph in models:
            out.write(_graph_text(graph))
    for error in errors:
        _error(str(error))
    return EXIT_ERROR if errors else EXIT_CLEAN


def _graph_findings(result, config) -> list:
    """Each graph of *result* with the rule codes found on its nodes, under *config*'s rule selection."""
    from bnlint.records import replace

    from bnlint.checker import Selection, codes_for
    from bnlint.drawing import node_findings
    from bnlint.engine import lint

    codes = codes_for(config, Selection())
    drawn = []
    for graph in result.graphs:
        diagnostics = lint(replace(result, graphs=[graph]), codes, config.options)
        drawn.append((graph, node_findings(graph, diagnostics)))
    return drawn


def _graph_text(graph) -> str:
    lines = [f"model {graph.name} ({graph.origin}): {len(graph)} layer calls"]
    for node, layer in graph.layers():
        inputs = ", ".join(str(p) for p in graph.predecessors(node))
        arrow = f" <- {inputs}" if inputs else ""
        lines.append(f"  {node:>3} {layer.name}: {layer.class_name} [{layer.kind}]{arrow}  @ {layer.origin}")
    return "\n".join(lines) + "\n\n"


if __name__ == "__main__":
    raise SystemExit(main())
