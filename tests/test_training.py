"""The training path on tiny data: never a full training run in tests."""

import json
from pathlib import Path

from nlp.analyzer import Analyzer, AnalyzerConfig
from nlp.train.evaluate import calibrate, choose_sentiment_bias, choose_thresholds
from nlp.train.multitask import MultitaskConfig, _length_bucketed, build_model, sentiment_loss, train

JOURNEY_ROWS = [
    {
        "text": "The parcel came two days late.",
        "stages": ["delivery"],
        "touchpoints": ["courier"],
        "value_dimensions": ["functional"],
    },
    {
        "text": "Charged twice, then support hung up on me.",
        "stages": ["billing", "support"],
        "touchpoints": ["call_centre"],
        "value_dimensions": ["economic"],
        "sentiment": "negative",
    },
    {"text": "Happy new year everyone!", "stages": [], "touchpoints": [], "value_dimensions": []},
]


def write_journey_train(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.jsonl").write_text("\n".join(json.dumps(row) for row in JOURNEY_ROWS) + "\n")
    return folder


def test_tiny_multitask_run_produces_a_loadable_model(tmp_path: Path):
    run = train(
        MultitaskConfig(
            out_dir=tmp_path / "run",
            semeval_rows=24,
            goemotions_rows=16,
            sst2_rows=8,
            uci=False,
            batch_size=8,
            journey_epochs=1,
            journey_dir=write_journey_train(tmp_path / "journey"),
        )
    )
    assert (run / "adapter" / "adapter_model.safetensors").exists() and (run / "heads.safetensors").exists()
    model_dir = calibrate(run, tmp_path / "model", dev_rows=40)
    dev = json.loads((model_dir / "config.json").read_text())["dev_metrics"]
    assert 0 <= dev["tweeteval_val_macro_recall"] <= 1 and 0 <= dev["goemotions_dev_macro_f1"] <= 1
    analyzer = Analyzer.from_config(AnalyzerConfig(model_dir=model_dir))
    assert analyzer("works").sentiment is not None

    from nlp.encoder import load_tokenizer
    from nlp.heads.linear import load_heads

    resumed = build_model(MultitaskConfig(out_dir=tmp_path / "again", init_from=run), 28, load_tokenizer())
    saved = load_heads(run / "heads.safetensors")["emotion"]
    assert resumed.emotion.weight.detach().numpy().tolist() == saved.weight.tolist()
    assert any("lora" in name for name, p in resumed.encoder.named_parameters() if p.requires_grad)


def test_length_buckets_keep_every_row_once_and_pad_little():
    import random
    from types import SimpleNamespace

    rows = [SimpleNamespace(text="x" * n) for n in random.Random(1).sample(range(1, 500), 200)]
    batches = _length_bucketed(rows, size=8, window=5, rng=random.Random(2))
    assert sorted(len(r.text) for b in batches for r in b) == sorted(len(r.text) for r in rows)
    assert all(len(b) <= 8 for b in batches)
    spread = sum(len(b[-1].text) - len(b[0].text) for b in batches) / len(batches)
    assert spread < 100  # sorted inside 40-row windows: neighbours in a batch have similar lengths


def test_binary_examples_never_train_the_neutral_logit():
    import torch

    logits = torch.zeros((2, 3), requires_grad=True)
    loss = sentiment_loss(logits, [0, 2], [True, True])
    loss.backward()
    assert torch.all(logits.grad[:, 1] == 0)


def test_unknown_polarity_rows_are_skipped():
    import torch

    assert sentiment_loss(torch.zeros((2, 3)), [-1, -1], [False, False]) is None


def test_bias_search_recovers_a_shifted_class():
    import numpy as np

    labels = np.array([0, 1, 2] * 30)
    logits = np.eye(3)[labels] * 0.5
    logits[:, 1] += 0.6  # neutral over-predicted
    bias = choose_sentiment_bias(logits, labels)
    assert bias[1] < 0
    # A second dev set that over-predicts negative pulls the shared choice towards it.
    other = np.eye(3)[labels] * 0.5
    other[:, 0] += 0.6
    assert choose_sentiment_bias(logits, labels, also=((other, labels),))[0] < bias[0]


def test_thresholds_are_chosen_per_label():
    import numpy as np

    probs = np.array([[0.9, 0.2], [0.8, 0.3], [0.1, 0.35], [0.2, 0.1]])
    targets = np.array([[1, 0], [1, 0], [0, 1], [0, 0]], dtype=bool)
    low, high = choose_thresholds(probs, targets)
    assert 0.2 < low <= 0.8 and 0.3 < high <= 0.35


def test_journey_batches_train_the_journey_heads_and_sentiment_only_where_labelled(tmp_path: Path):
    import random

    from nlp.encoder import load_tokenizer
    from nlp.taxonomy import DEFAULT_TAXONOMY, Taxonomy
    from nlp.train.multitask import batch_loss, journey_examples, make_batches

    config = MultitaskConfig(
        out_dir=tmp_path, journey_epochs=2, journey_dir=write_journey_train(tmp_path / "journey"), batch_size=2
    )
    rows, sizes = journey_examples(config)
    taxonomy = Taxonomy.load(DEFAULT_TAXONOMY)
    assert sizes == {family: len(taxonomy.ids(family)) for family in sizes}
    assert rows[1].labels["stages"] == tuple(taxonomy.ids("stages").index(s) for s in ("billing", "support"))
    assert [r.sentiment for r in rows] == [-1, 0, -1]  # only the second row is labelled (negative)
    batches = make_batches([], [], [], config, random.Random(0), rows)
    assert sorted(t for b in batches for t in b.texts) == sorted(r["text"] for r in JOURNEY_ROWS for _ in range(2))
    polarity = {t: p for b in batches for t, p in zip(b.texts, b.sentiment, strict=True)}
    assert polarity == {row["text"]: -1 for row in JOURNEY_ROWS} | {JOURNEY_ROWS[1]["text"]: 0}

    tokenizer = load_tokenizer()
    model = build_model(config, 28, tokenizer, sizes)
    unlabelled = next(b for b in batches if JOURNEY_ROWS[1]["text"] not in b.texts)
    batch_loss(model, tokenizer, unlabelled, config).backward()
    assert model.sentiment.weight.grad is None and model.emotion.weight.grad is None
    assert all(head.weight.grad.abs().sum() > 0 for head in model.journey.values())
    labelled = next(b for b in batches if JOURNEY_ROWS[1]["text"] in b.texts)
    batch_loss(model, tokenizer, labelled, config).backward()
    assert model.sentiment.weight.grad.abs().sum() > 0


def test_journey_sentiment_weight_scales_only_the_sentiment_loss_of_journey_batches(tmp_path: Path):
    import random

    import torch

    from nlp.encoder import load_tokenizer
    from nlp.train.multitask import Batch, batch_loss, journey_examples, make_batches

    config = MultitaskConfig(out_dir=tmp_path, journey_epochs=1, journey_dir=write_journey_train(tmp_path / "j"))
    rows, sizes = journey_examples(config)
    journey = make_batches([], [], [], config, random.Random(0), rows)[0]
    tweets = Batch("sentiment", ["good", "bad"], [2, 0], [False, False], [])
    tokenizer = load_tokenizer()
    torch.manual_seed(0)
    model = build_model(config, 28, tokenizer, sizes).eval()  # no dropout: the same pass twice

    def loss(batch: Batch, weight: float) -> float:
        config.journey_sentiment_weight = weight
        with torch.no_grad():
            return float(batch_loss(model, tokenizer, batch, config))

    journey_only = dict(model.journey.items())
    full, none = loss(journey, 1.0), loss(journey, 0.0)
    model.journey = torch.nn.ModuleDict()
    sentiment_part = loss(journey, 1.0)
    model.journey = torch.nn.ModuleDict(journey_only)
    assert abs(loss(journey, 0.3) - (none + 0.3 * sentiment_part)) < 1e-5 and full > none
    assert loss(tweets, 0.0) == loss(tweets, 1.0)  # other batches keep their full weight


def test_training_device_auto_is_the_cpu_without_a_gpu():
    import torch

    from nlp.train.multitask import training_device

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert training_device("auto").type == expected and training_device("cpu").type == "cpu"


def test_run_settings_name_repository_paths_relative_to_it():
    from nlp.bundle import REPO_ROOT
    from nlp.train.multitask import _portable

    assert _portable(REPO_ROOT / "corpora" / "taxonomy" / "default.yaml") == "corpora/taxonomy/default.yaml"
    assert _portable(Path("runs/multitask")) == "runs/multitask"
    assert _portable(Path("/elsewhere/data")) == "/elsewhere/data"


def test_soup_adapter_applies_the_mean_of_the_runs_updates():
    import numpy as np

    from nlp.train.soup import average_adapters

    rng = np.random.default_rng(0)
    runs = [{"m.lora_A.weight": rng.normal(size=(4, 6)), "m.lora_B.weight": rng.normal(size=(5, 4))} for _ in range(3)]
    soup = average_adapters(runs)
    expected = np.mean([r["m.lora_B.weight"] @ r["m.lora_A.weight"] for r in runs], axis=0)
    assert soup["m.lora_A.weight"].shape == (12, 6)
    assert np.allclose(soup["m.lora_B.weight"] @ soup["m.lora_A.weight"], expected)


def test_soup_of_a_run_with_itself_merges_into_the_same_encoder(tmp_path: Path):
    import numpy as np
    import pytest
    from safetensors.numpy import load_file

    from nlp.encoder import load_adapted_model
    from nlp.train.soup import make_soup

    run = train(MultitaskConfig(out_dir=tmp_path / "run", semeval_rows=8, goemotions_rows=8, sst2_rows=0, uci=False))
    soup = make_soup([run, run], tmp_path / "soup")
    trained = load_file(str(run / "adapter" / "adapter_model.safetensors"))
    assert any(np.abs(v).sum() > 0 for k, v in trained.items() if "lora_B" in k)  # a real update, not LoRA's zero init
    assert json.loads((soup / "adapter" / "adapter_config.json").read_text())["r"] == 32
    alone, doubled = load_adapted_model(run / "adapter").state_dict(), load_adapted_model(soup / "adapter").state_dict()
    assert all(np.allclose(alone[k].numpy(), doubled[k].numpy(), atol=1e-6) for k in alone)

    other = tmp_path / "other"
    other.mkdir()
    for name in ("adapter", "heads.safetensors"):
        (other / name).symlink_to(run / name)
    settings = json.loads((run / "train_config.json").read_text())
    (other / "train_config.json").write_text(json.dumps(dict(settings, base_model="all-mpnet-base-v2")))
    labels = json.loads((run / "labels.json").read_text())
    (other / "labels.json").write_text(json.dumps(labels))
    with pytest.raises(ValueError, match="base_model"):
        make_soup([run, other], tmp_path / "mixed")
    (other / "train_config.json").write_text(json.dumps(settings))
    (other / "labels.json").write_text(json.dumps({**labels, "emotion": labels["emotion"][::-1]}))
    with pytest.raises(ValueError, match="labels"):
        make_soup([run, other], tmp_path / "mixed")
