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
