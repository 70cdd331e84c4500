"""OpenAI CLIP's byte-level BPE text tokenizer (Radford et al. 2021), without open_clip.

The vocabulary is weight set ``clip-bpe`` (``tokcom models fetch clip-bpe``: the merge list shipped in the
``open_clip_torch`` wheel on PyPI). Ids::

    0..255        the 256 bytes, each as a printable unicode symbol (GPT-2's byte↔unicode table)
    256..511      the same symbols ending a word ("</w>")
    512..49405    the merges, in rank order (the merged symbol)
    49406, 49407  <start_of_text>, <end_of_text>

Text is cleaned as CLIP does (``ftfy.fix_text`` when ftfy is installed, HTML unescaping twice, whitespace
collapsed, lower-cased), split into words with CLIP's pre-tokenisation pattern (needs the ``regex``
package: ``\\p{L}``/``\\p{N}`` classes), each word's UTF-8 bytes mapped to symbols and merged by rank.
Sequences are ``[<start_of_text>, ids…, <end_of_text>]`` zero-padded to the context length (77); longer
ones are cut and end with ``<end_of_text>``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from tokcom.errors import InputError, TokcomError

BPE_WEIGHTS = "clip-bpe"
CONTEXT_LENGTH = 77
SOT = "<start_of_text>"
EOT = "<end_of_text>"


@lru_cache(maxsize=1)
def byte_symbols() -> tuple[str, ...]:
    """The printable unicode symbol of each byte value 0..255 (GPT-2/CLIP byte-level BPE table).

    Printable Latin-1 bytes (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``) stand for themselves; the other 68
    bytes take the code points 256, 257, … in increasing byte order.
    """
    keep = set(range(0x21, 0x7F)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    out, extra = [], 0
    for b in range(256):
        if b in keep:
            out.append(chr(b))
        else:
            out.append(chr(256 + extra))
            extra += 1
    return tuple(out)


def _byte_order() -> list[int]:
    """Byte values in vocabulary order: the printable ones first (in byte order), then the remapped ones."""
    sym = byte_symbols()
    return sorted(range(256), key=lambda b: (ord(sym[b]) >= 256, ord(sym[b])))


def clean_text(text: str) -> str:
    """CLIP's text cleanup: ftfy (when installed), HTML unescape twice, collapse whitespace, lower-case."""
    try:
        import ftfy

        text = ftfy.fix_text(text)
    except ImportError:  # ftfy only repairs mojibake; plain text is unchanged by it
        pass
    text = html.unescape(html.unescape(text)).strip()
    return " ".join(text.split()).lower()


def _pattern():
    try:
        import regex
    except ImportError:
        raise TokcomError("the CLIP tokenizer needs the regex package: pip install 'tokcom[intent]'") from None
    # CLIP's pre-tokenisation: specials, English contractions, letter runs, single digits, other symbol runs
    return regex.compile(
        rf"{SOT}|{EOT}|'s|'t|'re|'ve|'m|'ll|'d|\p{{L}}+|\p{{N}}|[^\s\p{{L}}\p{{N}}]+",
        regex.IGNORECASE,
    )


class ClipTokenizer:
    """CLIP BPE tokenizer.

    Args:
        merges: the BPE merges in rank order, each a pair of symbols (48 894 for CLIP).
        context_length: padded/truncated length of :meth:`__call__`'s rows (77 for CLIP).
    """

    def __init__(self, merges: Sequence[tuple[str, str]], context_length: int = CONTEXT_LENGTH) -> None:
        sym = byte_symbols()
        base = [sym[b] for b in _byte_order()]
        vocab = base + [s + "</w>" for s in base] + ["".join(m) for m in merges] + [SOT, EOT]
        self.encoder: dict[str, int] = {s: i for i, s in enumerate(vocab)}
        self.decoder: dict[int, str] = dict(enumerate(vocab))
        self.ranks: dict[tuple[str, str], int] = {tuple(m): i for i, m in enumerate(merges)}
        self.sot_token_id = self.encoder[SOT]
        self.eot_token_id = self.encoder[EOT]
        self.vocab_size = len(vocab)
        self.context_length = int(context_length)
        self._pat = _pattern()
        self._cache: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_file(cls, path: str | Path, context_length: int = CONTEXT_LENGTH) -> ClipTokenizer:
        """Load the ``clip-bpe`` safetensors (tensor ``merges``: UTF-8 text, one ``"a b"`` per line)."""
        from safetensors.numpy import load_file

        raw = load_file(str(path))["merges"]
        lines = np.asarray(raw, np.uint8).tobytes().decode("utf-8").split("\n")
        return cls([tuple(line.split()) for line in lines], context_length)  # type: ignore[misc]

    @classmethod
    def from_cache(cls, context_length: int = CONTEXT_LENGTH) -> ClipTokenizer:
        """The tokenizer from the cached weight set ``clip-bpe``.

        Raises:
            WeightsUnavailable: not in the cache (the message names the fetch command).
        """
        from tokcom import models

        return _cached_tokenizer(str(models.path(BPE_WEIGHTS)), context_length)

    def bpe(self, word: str) -> tuple[str, ...]:
        """The BPE symbols of one pre-token ``word`` (already byte-mapped); the last ends with ``</w>``."""
        if word in self._cache:
            return self._cache[word]
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            pairs = set(pairwise(parts))
            best = min(pairs, key=lambda p: self.ranks.get(p, len(self.ranks)))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and (parts[i], parts[i + 1]) == best:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        out = tuple(parts)
        if len(self._cache) < 100_000:
            self._cache[word] = out
        return out

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without the start/end tokens."""
        sym = byte_symbols()
        ids: list[int] = []
        for m in self._pat.finditer(clean_text(text)):
            tok = m.group(0)
            if tok in (SOT, EOT):
                ids.append(self.encoder[tok])
                continue
            word = "".join(sym[b] for b in tok.encode("utf-8"))
            ids.extend(self.encoder[s] for s in self.bpe(word))
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids`` (specials and padding zeros after ``<end_of_text>`` dropped)."""
        inv = {s: b for b, s in enumerate(byte_symbols())}
        pieces = []
        for i in ids:
            i = int(i)
            if i == self.eot_token_id:
                break
            if i == self.sot_token_id:
                continue
            pieces.append(self.decoder[i])
        raw = bytes(inv[c] for c in "".join(pieces))  # "</w>" is printable ASCII: it maps to itself
        return raw.decode("utf-8", errors="replace").replace("</w>", " ").strip()

    def __call__(self, texts: str | Sequence[str], context_length: int | None = None) -> np.ndarray:
        """Token id rows ``[N, context_length], int64``: start, ids, end, zero padding.

        Raises:
            InputError: ``texts`` is empty.
        """
        if isinstance(texts, str):
            texts = [texts]
        if len(texts) == 0:
            raise InputError("no text given to the CLIP tokenizer")
        n = int(context_length or self.context_length)
        out = np.zeros((len(texts), n), np.int64)
        for r, t in enumerate(texts):
            ids = [self.sot_token_id, *self.encode(t), self.eot_token_id]
            if len(ids) > n:
                ids = ids[:n]
                ids[-1] = self.eot_token_id
            out[r, :len(ids)] = ids
        return out


@lru_cache(maxsize=4)
def _cached_tokenizer(path: str, context_length: int) -> ClipTokenizer:
    return ClipTokenizer.from_file(path, context_length)
