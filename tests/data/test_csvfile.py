"""Reading CSV files: the sniffed delimiter, ragged rows named by line, text that is not a CSV."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from fuseprune.data import load_table, parse_delimiter, read_csv, sniff_delimiter
from fuseprune.errors import DataError, FusepruneError, PathNotFoundError

CITIES = ["Oslo", "Lima", "Pune"]


def people(delimiter: str, n: int = 12) -> str:
    """A header and ``n`` rows of four columns: age, city, smoker, score (score 1.5 * i)."""
    rows = [delimiter.join(["age", "city", "smoker", "score"])]
    rows += [delimiter.join([str(20 + i % 5), CITIES[i % 3], ["yes", "no"][i % 2], str(i * 1.5)]) for i in range(n)]
    return "\n".join(rows) + "\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def message(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert text and "\n" not in text and isinstance(exc.value, FusepruneError)
    return text


# --- the sniffer -------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_candidate_delimiter_is_sniffed_and_the_table_read_as_written(tmp_path, delimiter, caplog):
    path = write(tmp_path / "people.csv", people(delimiter))
    with caplog.at_level(logging.INFO, logger="fuseprune.data.csvfile"):
        table = load_table(path)
    assert list(table.frame.columns) == ["age", "city", "smoker", "score"]
    assert table.frame["score"].tolist() == [i * 1.5 for i in range(12)]
    assert table.frame["city"].tolist()[:3] == CITIES
    assert table.read.delimiter == delimiter
    assert f"delimiter {delimiter!r}" in caplog.text and "sniffed" in caplog.text


def test_a_semicolon_file_is_not_one_column_any_more(tmp_path):
    # the defect: pandas' default comma turned this into one column named "age;city;smoker;score"
    frame, delimiter = read_csv(write(tmp_path / "semi.csv", people(";")))
    assert delimiter == ";" and frame.shape == (12, 4)


def test_a_given_delimiter_is_used_and_logged_as_given(tmp_path, caplog):
    path = write(tmp_path / "semi.csv", people(";"))
    with caplog.at_level(logging.INFO, logger="fuseprune.data.csvfile"):
        table = load_table(path, delimiter=";")
    assert table.frame.shape == (12, 4) and "given" in caplog.text


def test_two_delimiters_that_both_fit_are_refused_naming_the_option(tmp_path):
    # "a,b;c": a comma makes columns a | b;c, a semicolon a,b | c; every line agrees with both
    text = "a,b;c\n" + "".join(f"{i % 3},{i % 4};{i % 5}\n" for i in range(12))
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "both.csv", text))
    assert "',' (comma) and ';' (semicolon)" in message(exc) and "--delimiter" in str(exc.value)
    # saying which resolves it
    table = load_table(tmp_path / "both.csv", delimiter=";")
    assert list(table.frame.columns) == ["a,b", "c"]


def test_the_sniffer_prefers_the_delimiter_every_line_agrees_with():
    # both split the header in two, but only ";" splits every line in two ("4;5" has no comma)
    sample = "a;b,c\n1;2,3\n4;5\n"
    assert sniff_delimiter(sample) == ";"
    # quoted delimiters do not count
    assert sniff_delimiter('a,b\n"x;y",1\n"z;w",2\n') == ","


def test_a_header_without_any_candidate_is_one_column():
    assert sniff_delimiter("value\n1\n2\n") == ","


def test_when_no_candidate_fits_the_one_that_splits_the_header_is_used_and_the_ragged_row_named(tmp_path):
    text = people(",") + "25,Oslo,yes,3.0,surplus\n"
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "ragged.csv", text))
    assert "line 14 has 5 fields but the header has 4" in message(exc)


@pytest.mark.parametrize("text, expected", [(";", ";"), ("tab", "\t"), ("\\t", "\t"), ("TAB", "\t"), ("pipe", "|"),
                                            ("comma", ","), ("semicolon", ";"), (None, None), ("", None)])
def test_delimiter_option_forms(text, expected):
    assert parse_delimiter(text) == expected


@pytest.mark.parametrize("text", [";;", '"', "\n", "tabs"])
def test_a_delimiter_option_that_is_not_one_character_is_refused(text):
    with pytest.raises(DataError) as exc:
        parse_delimiter(text)
    assert "--delimiter must be one character" in message(exc)


# --- ragged rows -----------------------------------------------------------------------------------


def test_a_row_with_an_extra_field_is_refused_naming_its_line(tmp_path):
    lines = people(",").splitlines()
    lines[5] += ",extra"  # line 6 of the file (the header is line 1)
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "extra.csv", "\n".join(lines) + "\n"))
    assert "line 6 has 5 fields but the header has 4" in message(exc)


def test_a_row_with_a_missing_field_is_refused_naming_its_line(tmp_path):
    lines = people(",").splitlines()
    lines[9] = "22,Lima,no"
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "short.csv", "\n".join(lines) + "\n"))
    assert "line 10 has 3 fields but the header has 4" in message(exc)


def test_every_row_with_extra_fields_is_refused_too_not_turned_into_an_index(tmp_path):
    # the defect: when every row had one field more, pandas made the first column the index
    text = "a,b\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(12))
    with pytest.raises(DataError) as exc:
        load_table(write(tmp_path / "shifted.csv", text))
    assert "line 2 has 3 fields but the header has 2" in message(exc)


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path):
    text = 'a,b\n1,"two\nlines"\n\n3,4\n5,6,7\n'
    with pytest.raises(DataError) as exc:
        read_csv(write(tmp_path / "lines.csv", text))
    assert "line 6 has 3 fields" in message(exc)


def test_trailing_empty_fields_and_blank_lines_are_fine(tmp_path):
    text = "a,b,c,\n" + "".join(f"{i},{i % 3},{i % 4},\n" + ("\n" if i == 5 else "") for i in range(12)) + "12,0,0,,\n"
    frame, _ = read_csv(write(tmp_path / "trailing.csv", text))
    assert list(frame.columns) == ["a", "b", "c"] and frame["a"].tolist() == list(range(13))


def test_a_missing_value_is_an_empty_field_not_a_missing_field(tmp_path):
    text = "a,b,c\n" + "".join(f"{i},,{i % 4}\n" if i == 3 else f"{i},{i % 3},{i % 4}\n" for i in range(12))
    frame, _ = read_csv(write(tmp_path / "gap.csv", text))
    assert frame["b"].isna().sum() == 1 and frame.shape == (12, 3)


# --- not a CSV -----------------------------------------------------------------------------------


def test_binary_bytes_are_refused_as_not_utf8(tmp_path):
    path = tmp_path / "blob.csv"
    path.write_bytes(bytes(range(128, 256)) * 8)
    with pytest.raises(DataError) as exc:
        load_table(path)
    assert "not UTF-8 text" in message(exc)


def test_nul_bytes_are_refused_as_not_text(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"a,b\n1,\x002\n")
    with pytest.raises(DataError) as exc:
        load_table(path)
    assert "NUL" in message(exc)


def test_a_directory_is_refused_as_a_directory(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataError) as exc:
        load_table(tmp_path / "folder.csv")
    assert "is a directory" in message(exc)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(PathNotFoundError):
        read_csv(tmp_path / "absent.csv")


def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + people(";").encode("utf-8"))
    frame, delimiter = read_csv(path)
    assert delimiter == ";" and frame.columns[0] == "age"
