"""Options built from config dataclasses: defaults and help come from the config, so the CLI cannot drift from it."""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from fuseprune.cli import build_parser
from fuseprune.cli.boundary import Parser, UsageError
from fuseprune.cli.config_options import CONFIG_FIELD, add_config_options, config_from_args, field_default
from fuseprune.cli.output import integer, seeds


@dataclass(frozen=True)
class Toy:
    """A config with one field of each kind the mechanism handles."""

    rows: int = field(default=256, metadata={"help": "rows to use"})
    seeds: tuple[int, ...] = field(default=(0, 1), metadata={"help": "seeds"})
    names: tuple[str, ...] = field(default=("a", "b"), metadata={"help": "names"})
    remove: str = field(default="50%", metadata={"help": "what goes"})
    target: str = field(default="", metadata={"help": "the column (default: the data set's own)"})
    fast: bool = field(default=False, metadata={"help": "go fast"})
    note: str = field(default="x", metadata={"help": "a field no option sets"})


NAMES = ("rows", "seeds", "names", "remove", "target", "fast")


def toy_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="toy")
    add_config_options(parser, Toy, NAMES, types={"rows": integer(1, 1000), "seeds": seeds},
                       flags={"rows": "--n"})
    return parser


def test_defaults_build_the_config_defaults():
    args = toy_parser().parse_args([])
    assert config_from_args(Toy, args, NAMES) == Toy()


def test_given_values_are_parsed_and_tuples_are_comma_separated():
    args = toy_parser().parse_args(["--n", "7", "--seeds", "3,4", "--names", "x, y", "--remove", "2", "--fast"])
    config = config_from_args(Toy, args, NAMES, note="y")
    assert config == Toy(rows=7, seeds=(3, 4), names=("x", "y"), remove="2", fast=True, note="y")


def test_the_field_parser_keeps_its_bounds_and_message():
    with pytest.raises(UsageError, match=r"argument --n: must be between 1 and 1,000; got 1,001"):
        toy_parser().parse_args(["--n", "1001"])


def test_help_is_the_field_help_with_its_default_and_the_option_named_after_its_flag():
    text = " ".join(toy_parser().format_help().split())
    assert "--n N rows to use (default: 256)" in text
    assert "--seeds SEEDS seeds (default: 0,1)" in text
    assert "--remove REMOVE what goes (default: 50%)" in text  # a % in a help or default reaches the user once
    assert "--target TARGET the column (default: the data set's own)" in text  # an empty default is not shown
    assert "--fast go fast" in text and "--fast go fast (default" not in text


def test_unset_options_default_to_none_and_show_what_fills_them():
    parser = Parser(prog="toy")
    add_config_options(parser, Toy, ("rows",), types={"rows": integer(1, 1000)}, unset={"rows": "the recipe's"})
    assert parser.parse_args([]).rows is None
    assert "rows to use (default: the recipe's)" in " ".join(parser.format_help().split())


def test_a_bound_of_the_command_line_is_added_to_the_field_help():
    parser = Parser(prog="toy")
    add_config_options(parser, Toy, ("rows",), types={"rows": integer(1, 1000)}, limits={"rows": "at most 1,000"})
    assert "rows to use, at most 1,000 (default: 256)" in " ".join(parser.format_help().split())


def test_required_options_have_no_default():
    parser = Parser(prog="toy")
    add_config_options(parser, Toy, ("names",), required=("names",))
    with pytest.raises(UsageError, match="the following arguments are required: --names"):
        parser.parse_args([])


def _config_actions(parser: argparse.ArgumentParser, path: str = "") -> dict[str, list[argparse.Action]]:
    """Command path -> the actions built from a config field, for every (sub)command of ``parser``."""
    found: dict[str, list[argparse.Action]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(_config_actions(sub, f"{path} {name}".strip()))
        elif hasattr(action, CONFIG_FIELD):
            found.setdefault(path, []).append(action)
    return found


#: Options a command fills later (from the preset's recipe) instead of the config's default.
FILLED_LATER = {
    "train": {"max_epochs", "max_minutes", "batch_size", "learning_rate", "weight_decay", "warmup_fraction",
              "patience"},
    "distill": {"alpha", "temperature", "max_epochs", "max_minutes", "batch_size", "learning_rate", "weight_decay",
                "warmup_fraction", "patience"},
}


def test_every_generated_option_defaults_to_its_config_field_default():
    commands = _config_actions(build_parser())
    assert set(commands) == {"train", "sample", "evaluate", "run", "distill", "compare", "compress", "fuse build-bank",
                             "plan"}
    for command, actions in commands.items():
        for action in actions:
            config, name = getattr(action, CONFIG_FIELD)
            if name in FILLED_LATER.get(command, ()):
                assert action.default is None, (command, name)
            elif action.required:
                assert action.default is None, (command, name)
            else:
                assert action.default == field_default(config, name), (command, name)
                assert type(action.default) is type(field_default(config, name)), (command, name)


def test_the_defaults_users_rely_on():
    commands = {command: {action.option_strings[0]: action.default for action in actions}
                for command, actions in _config_actions(build_parser()).items()}
    assert commands["evaluate"]["--seeds"] == (0, 1, 2) and commands["evaluate"]["--rows"] == 0
    assert commands["run"]["--remove"] == "50%" and commands["run"]["--data"] == "breast-cancer-wisconsin"
    assert commands["compare"]["--teachers"] == "runs/teachers" == commands["fuse build-bank"]["--teachers"]
    assert commands["fuse build-bank"]["--calibration-rows"] == 256 == commands["compare"]["--calibration-rows"]
    assert commands["sample"]["--chunk-rows"] == 2048 and commands["distill"]["--hidden-loss"] == "mse"


def test_building_every_option_imports_neither_torch_nor_pandas():
    code = ("import sys; from fuseprune.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'pandas', 'transformers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
