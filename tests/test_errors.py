"""common/errors.py: every failed input check of one try is reported, the last one raised."""
import pytest

from common.errors import UserError, check_all


def fails(message):
    def check():
        raise UserError(message)
    return check


def test_check_all_reports_every_failure(capsys):
    assert check_all(lambda: 1, lambda: "two") == [1, "two"]
    with pytest.raises(UserError) as error:
        check_all(fails("a.mp4: video file not found"), lambda: 1, fails("b.pt: checkpoint file not found"))
    assert str(error.value) == "b.pt: checkpoint file not found"
    assert capsys.readouterr().err == "error: a.mp4: video file not found\n"
