"""The command line's one exception boundary: every error is one `error:` line; only unexpected ones are exit 1."""

from __future__ import annotations

import json
import math

import pytest

from fuseprune.cli import boundary, main
from fuseprune.errors import ModelError


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def failing_datasets(monkeypatch):
    """Make `fuseprune datasets` raise the exception given to the returned setter."""
    from fuseprune.cli import model_commands

    def use(exc: BaseException) -> None:
        def boom(args):
            raise exc

        monkeypatch.setattr(model_commands, "cmd_datasets", boom)

    return use


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (ModelError("a damaged folder;\nsecond line"), "error: a damaged folder; second line"),
        (PermissionError(13, "Permission denied", "/data/x.csv"), "error: Permission denied: '/data/x.csv'."),
        (IsADirectoryError(21, "Is a directory", "out"), "error: Is a directory: 'out'."),
        (json.JSONDecodeError("Expecting value", "x", 0), "error: a file is not valid JSON (Expecting value at line 1"),
        (UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "invalid continuation byte"),
         "error: a file is not UTF-8 text (byte 0 cannot be decoded as utf-8)."),
        (MemoryError(), "error: out of memory"),
    ],
    ids=["fuseprune", "permission", "directory", "json", "unicode", "memory"],
)
def test_known_errors_are_one_line_and_exit_2(capsys, failing_datasets, exc, message):
    failing_datasets(exc)
    code, _, err = run(capsys, "datasets")
    assert code == 2 and lines(err) == [lines(err)[0]] and lines(err)[0].startswith(message), err


def test_library_errors_of_safetensors_and_pandas_are_known(capsys, failing_datasets):
    import pandas as pd
    from safetensors import SafetensorError

    for exc, message in ((SafetensorError("header too large"), "a safetensors file is damaged (header too large)."),
                         (pd.errors.ParserError("Error tokenizing data.\nC error"), "a CSV file cannot be read")):
        failing_datasets(exc)
        code, _, err = run(capsys, "datasets")
        assert code == 2 and len(lines(err)) == 1 and message in err, err


def test_an_unexpected_error_is_one_line_with_a_hint_and_the_traceback_with_v(capsys, failing_datasets):
    failing_datasets(ZeroDivisionError("division by zero"))
    code, _, err = run(capsys, "datasets")
    assert code == 1 and lines(err) == [
        "error: unexpected ZeroDivisionError: division by zero (rerun with -v for the traceback)"]
    code, _, err = run(capsys, "-v", "datasets")
    assert code == 1 and "Traceback (most recent call last)" in err
    assert lines(err)[-1] == "error: unexpected ZeroDivisionError: division by zero"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bogus"], "error: argument COMMAND: invalid choice: 'bogus'"),
        (["train"], "error: the following arguments are required: --out (see `fuseprune train --help`)"),
        (["sample", "m", "--seed", "1e23"], "error: argument --seed: must be an integer between 0 and 4,294,967,295"),
        (["sample", "m", "--rows", "1e12"], "error: argument --rows: must be an integer between 1 and 100,000,000"),
        (["sample", "m", "--frobnicate"], "error: unrecognized arguments: --frobnicate"),
        (["fuse"], "error: the following arguments are required: FUSE_COMMAND (see `fuseprune fuse --help`)"),
        ([], "error: the following arguments are required: COMMAND"),
    ],
)
def test_argument_mistakes_are_one_line_and_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and len(lines(err)) == 1 and lines(err)[0].startswith(message), err


def test_help_and_version_still_print_and_exit_0(capsys):
    for argv in (["--help"], ["sample", "--help"], ["--version"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
    assert "--no-verify" in capsys.readouterr().out


def test_option_types_bound_their_values():
    from fuseprune.cli.output import integer, number, seeds

    assert integer(1, 10)(" 7 ") == 7 and number(0.0)("2.5") == 2.5 and seeds("0, 4294967295") == [0, 4294967295]
    for parse, text in ((integer(1, 10), "11"), (integer(1, 10), "1.0"), (number(0.0), "nan"), (number(0.0), "-1"),
                        (number(0.0, 1.0, low_open=True), "0"), (number(-math.inf), "inf"), (seeds, "1,-2"),
                        (seeds, ",")):
        with pytest.raises(Exception) as exc:
            parse(text)
        assert type(exc.value).__name__ == "ArgumentTypeError", text


def test_one_line_collapses_every_line_break():
    assert boundary.one_line("a\n  b\r\nc\t d") == "a b c d"
