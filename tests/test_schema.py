from hypothesis import given
from hypothesis import strategies as st

from nlp.schema import LabelScore, Result, Sentence, Sentiment

probabilities = st.floats(min_value=0, max_value=1, allow_nan=False)


@st.composite
def sentiments(draw):
    negative, neutral = draw(probabilities), draw(probabilities)
    positive = draw(probabilities)
    return Sentiment(
        label=draw(st.sampled_from(["negative", "neutral", "positive"])),
        score=max(-1.0, min(1.0, positive - negative)),
        probs={"negative": negative, "neutral": neutral, "positive": positive},
    )


@st.composite
def results(draw):
    text = draw(st.text(min_size=1, max_size=50))
    sentences = [Sentence(start=0, end=len(text), text=text, sentiment=draw(sentiments()))]
    emotions = [LabelScore(label=draw(st.text(min_size=1, max_size=10)), score=draw(probabilities))]
    return Result(
        id=draw(st.none() | st.text(max_size=10)), sentiment=draw(sentiments()), sentences=sentences, emotions=emotions
    )


@given(results())
def test_result_round_trips_through_json(result):
    assert Result.model_validate_json(result.model_dump_json()) == result


def test_result_rejects_unknown_fields():
    try:
        Result.model_validate({"id": "1", "surprise": True})
    except ValueError as error:
        assert "surprise" in str(error)
    else:
        raise AssertionError("extra field accepted")
