import json

from typer.testing import CliRunner

from nlp.cli import app

runner = CliRunner()


def test_analyze_prints_json_result():
    outcome = runner.invoke(app, ["analyze", "The app keeps crashing when I pay."])
    assert outcome.exit_code == 0, outcome.output
    payload = json.loads(outcome.stdout)
    assert payload["sentiment"]["label"] in {"negative", "neutral", "positive"}
    assert payload["sentences"][0]["start"] == 0


def test_analyze_empty_text_exits_with_error_code():
    outcome = runner.invoke(app, ["analyze", "   "])
    assert outcome.exit_code == 2
    assert json.loads(outcome.stdout)["error"]["code"] == "empty_text"


def test_train_journey_names_the_option_of_a_bad_grid(tmp_path):
    result = runner.invoke(app, ["train", "journey", "--out", str(tmp_path), "--c-grid", "0.1,abc"])
    assert result.exit_code == 2
    assert "--c-grid" in result.output and "not a comma-separated list" in result.output
    assert not any(tmp_path.iterdir())
