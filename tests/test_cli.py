"""The command line as a contract: every subcommand documents itself and answers a wrong option with one line."""
import pytest

from oceanguard.cli import COMMANDS, main


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_every_command_has_help(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([cmd, "--help"])
    assert e.value.code == 0
    assert f"oceanguard {cmd}" in capsys.readouterr().out


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_a_wrong_option_is_one_line_and_exit_2(cmd, capsys):
    rc = main([cmd, "--no-such-option"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("oceanguard: error: "), err
    assert "Traceback" not in err[0]


def test_unknown_command(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err
