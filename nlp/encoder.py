"""The sentence encoder: loaded offline from a wheel, run once per text, pooled per span.

Every head reads vectors produced here. A text is tokenised once with character offsets and
run through the transformer in windows of at most ``max_tokens`` word pieces; the document
vector and every sentence vector are then means over the token vectors that fall inside
their character spans. So a text costs one forward pass however many sentences it has.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

# Set before transformers is imported anywhere: no code path may reach for the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch

from nlp.base_encoders import DEFAULT_BASE, base_model_path
from nlp.symbols import SpelledText, spell_symbols

if TYPE_CHECKING:
    from nlp.bundle import ModelBundle

log = logging.getLogger(__name__)


def load_tokenizer(base: str = DEFAULT_BASE):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_model_path(base)), local_files_only=True)


def load_base_model(base: str = DEFAULT_BASE):
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(base_model_path(base)), local_files_only=True)


def load_adapted_model(adapter_dir: Path | None, base: str = DEFAULT_BASE):
    """Base model with the LoRA adapter merged in, so inference pays nothing for it."""
    model = load_base_model(base)
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir), local_files_only=True)
        model = model.merge_and_unload()
    return model.eval()


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of token vectors where mask is 1 (mask excludes padding and special tokens)."""
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def content_mask(batch: dict[str, torch.Tensor], special_ids: set[int]) -> torch.Tensor:
    """Attention mask without [CLS]/[SEP]: training pools exactly what inference pools."""
    mask = batch["attention_mask"].clone()
    for token_id in special_ids:
        mask[batch["input_ids"] == token_id] = 0
    return mask


Segment = tuple[np.ndarray, np.ndarray]  # token vectors (n, dim) and their character offsets (n, 2)


def segment_of(span: tuple[int, int], isolated: list[tuple[int, int]]) -> int:
    """The shortest isolated span (a clause before its sentence) holding the span, or -1 (the document)."""
    holding = [k for k, (s, e) in enumerate(isolated) if s <= span[0] and span[1] <= e]
    return min(holding, key=lambda k: isolated[k][1] - isolated[k][0], default=-1)


def span_vector(segment: Segment, span: tuple[int, int]) -> np.ndarray:
    """Mean of the segment's token vectors overlapping the span (all of them if none do)."""
    tokens, offsets = segment
    if len(tokens) == 0:
        return np.zeros(tokens.shape[-1], dtype=np.float32)
    inside = (offsets[:, 0] < span[1]) & (offsets[:, 1] > span[0])
    return tokens[inside].mean(0) if inside.any() else tokens.mean(0)


@dataclass
class Encoded:
    """One text's pooled vectors: the document and each requested span.

    The token vectors stay available (``segments``), so a component can pool a span it only
    knows after the pass (the words around a matched cue) without encoding again."""

    doc: np.ndarray  # (dim,)
    spans: np.ndarray  # (n_spans, dim)
    n_tokens: int
    segments: dict[int, Segment] = field(default_factory=dict, repr=False)  # -1: the document; k: isolated span k
    isolated: list[tuple[int, int]] = field(default_factory=list)

    def pool(self, span: tuple[int, int]) -> np.ndarray:
        """The span's vector, pooled as a span requested before the pass would have been."""
        return span_vector(self.segments[segment_of(span, self.isolated)], span).astype(np.float32)


class Encoder:
    """Runs the (adapted) transformer once per text and pools token vectors per span."""

    def __init__(
        self,
        adapter_dir: Path | None = None,
        max_tokens: int = 256,
        batch_tokens: int = 8192,
        threads: int | None = None,
        spell_symbols: bool = False,
        base: str = DEFAULT_BASE,
        device: str | None = None,
    ) -> None:
        if threads:
            torch.set_num_threads(threads)
        # The CPU unless asked otherwise ($VOC_DEVICE=cuda): voc-lens is built to serve from CPUs,
        # and a GPU run's figures should be a choice, not an accident of the machine.
        self.device = torch.device(device or os.environ.get("VOC_DEVICE", "cpu"))
        self.tokenizer = load_tokenizer(base)
        self.model = load_adapted_model(adapter_dir, base).to(self.device)
        self.dim = self.model.config.hidden_size
        self.window = max_tokens - 2  # room for [CLS] and [SEP]
        self.batch_tokens = batch_tokens
        self.spell_symbols = spell_symbols  # must match how the adapter was trained (ModelBundle.spell_symbols)
        self.cls_id = self.tokenizer.cls_token_id
        self.sep_id = self.tokenizer.sep_token_id
        self.pad_id = self.tokenizer.pad_token_id

    @classmethod
    def for_bundle(cls, bundle: ModelBundle, **settings) -> Encoder:
        """The bundle's adapted encoder, reading text the way its adapter was trained to."""
        return cls(bundle.adapter_dir, spell_symbols=bundle.spell_symbols, base=bundle.base_encoder, **settings)

    def _windows(self, ids: list[int]) -> list[list[int]]:
        if not ids:
            return [[self.cls_id, self.sep_id]]
        return [
            [self.cls_id, *ids[start : start + self.window], self.sep_id] for start in range(0, len(ids), self.window)
        ]

    @torch.inference_mode()
    def _run_windows(self, windows: list[list[int]]) -> list[np.ndarray]:
        """Token vectors for each window (specials dropped), batched by length."""
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        results: list[np.ndarray | None] = [None] * len(windows)
        start = 0
        while start < len(order):
            # Grow the batch while it stays within the token budget (lengths are ascending).
            end = start + 1
            while end < len(order) and len(windows[order[end]]) * (end - start + 1) <= self.batch_tokens:
                end += 1
            chunk = [windows[i] for i in order[start:end]]
            longest = max(len(w) for w in chunk)
            ids = torch.full((len(chunk), longest), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), longest), dtype=torch.long)
            for row, window in enumerate(chunk):
                ids[row, : len(window)] = torch.tensor(window)
                mask[row, : len(window)] = 1
            hidden = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).last_hidden_state
            hidden = hidden.float().cpu().numpy()
            for row, index in enumerate(order[start:end]):
                results[index] = hidden[row, 1 : len(chunk[row]) - 1]
            start = end
        return results  # type: ignore[return-value]

    def encode(
        self,
        texts: list[str],
        spans: list[list[tuple[int, int]]] | None = None,
        isolate: list[list[tuple[int, int]]] | None = None,
    ) -> list[Encoded]:
        """Encode texts in one batched pass; pool the whole text and each (start, end) span.

        ``isolate`` lists, per text, spans (sentences, clauses) the transformer also reads on their
        own (in the same batch). A sentence read inside its document takes on its neighbours' tone:
        on pairs of opposite-polarity review sentences, sentence accuracy is 0.93 read alone against
        0.70 pooled from the document (``voc eval multitask``, sentence_level_pairs); a clause read
        inside its sentence likewise ("delivery was quick" before "but support never answered" read
        negative). A span is pooled from the window of the shortest isolated span holding it; the
        document vector always comes from the document's windows, which keep cross-sentence context.
        """
        spans = spans if spans is not None else [[] for _ in texts]
        isolate = isolate if isolate is not None else [[] for _ in texts]
        # Long texts are cut into windows below, so the tokenizer's over-512-tokens warning is noise.
        views = [spell_symbols(text) if self.spell_symbols else SpelledText(text) for text in texts]
        tokenised = self.tokenizer(
            [view.text for view in views], add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        # Offsets index the caller's text, not the spelled view the model reads.
        all_offsets = [
            view.original_offsets(np.asarray(mapping, dtype=np.int64).reshape(-1, 2))
            for view, mapping in zip(views, tokenised["offset_mapping"])
        ]
        windows: list[list[int]] = []
        owners: list[tuple[int, int]] = []  # (text, -1 for the document or k for isolated span k)
        members: dict[tuple[int, int], np.ndarray] = {}
        for index, ids in enumerate(tokenised["input_ids"]):
            offsets = all_offsets[index]
            members[(index, -1)] = np.arange(len(ids))
            for k, (start, end) in enumerate(isolate[index]):
                members[(index, k)] = np.flatnonzero((offsets[:, 0] < end) & (offsets[:, 1] > start))
            for owner in [(index, -1)] + [(index, k) for k in range(len(isolate[index]))]:
                for window in self._windows([ids[t] for t in members[owner]]):
                    windows.append(window)
                    owners.append(owner)
        pieces: dict[tuple[int, int], list[np.ndarray]] = defaultdict(list)
        for owner, vector in zip(owners, self._run_windows(windows)):
            pieces[owner].append(vector)
        encoded = []
        for index in range(len(texts)):
            offsets = all_offsets[index]
            segments = {
                k: (np.concatenate(pieces[(index, k)]), offsets[members[(index, k)]])
                for k in range(-1, len(isolate[index]))
            }
            vectors = [span_vector(segments[segment_of(span, isolate[index])], span) for span in spans[index]]
            doc_tokens = segments[-1][0]
            encoded.append(
                Encoded(
                    doc_tokens.mean(0) if len(doc_tokens) else np.zeros(self.dim, dtype=np.float32),
                    np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, self.dim), dtype=np.float32),
                    len(doc_tokens),
                    segments,
                    list(isolate[index]),
                )
            )
        return encoded


def doc_vectors(encoder: Encoder, texts: list[str], chunk: int = 512) -> np.ndarray:
    """Document vectors only, ``chunk`` texts per ``encoder.encode`` call (bounding one pass's
    memory), with progress logged (counts, never texts)."""
    chunks = []
    for start in range(0, len(texts), chunk):
        chunks.append(np.stack([e.doc for e in encoder.encode(texts[start : start + chunk])]))
        log.info("encoded %d/%d texts", min(start + chunk, len(texts)), len(texts))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros((0, 0), dtype=np.float32)
