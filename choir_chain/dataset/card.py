"""The dataset card (README.md of the export): provenance, counts, distributions, and how the files are built.

Everything in it comes from the data and the options, nothing from the wall clock, so the same database gives
the same card. The YAML front matter names the files as Hugging Face `datasets` configurations.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from choir_chain.dataset.records import Source
from choir_chain.protocol.author_kind import AUTHOR_KIND_NAMES, AuthorKind
from choir_chain.protocol.units import WAD
from choir_chain.semantics.calibration import CALIBRATION_VERSION, INTERCEPT_WAD, SLOPE_WAD

OUTCOMES = ("posted", "approved", "denied", "split", "expired")
KINDS = ("root", "post", "spec")
MISSING_LISTED = 50
"""Missing bodies listed in the card itself (all of them are in missing_bodies.json)."""


@dataclass
class Stats:
    """Accumulated while the records are written."""

    records: int = 0
    pairs: int = 0
    threads: int = 0
    threads_with_pairs: int = 0
    unpaired: int = 0
    approved_examples: int = 0
    scorers: Counter[tuple[str, int]] = field(default_factory=Counter)
    """(model, calibration version) -> records scored by it."""
    scored: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_author_kind: Counter[str] = field(default_factory=Counter)
    body_lengths: list[int] = field(default_factory=list)
    novelties: list[float] = field(default_factory=list)
    first_block: int | None = None
    last_block: int | None = None
    missing: list[dict[str, Any]] = field(default_factory=list)

    def add_record(self, record: dict[str, Any]) -> None:
        self.records += 1
        self.by_kind[record["kind"]] += 1
        self.by_outcome[record["outcome"]] += 1
        self.by_author_kind[record["author_kind"]] += 1
        self.body_lengths.append(len(record["body"]))
        if record["novelty"] is not None:
            self.scored += 1
            self.novelties.append(record["novelty"])
            self.scorers[(record["novelty_model"], record["novelty_calibration"])] += 1
        block = record["block"]
        self.first_block = block if self.first_block is None else min(self.first_block, block)
        self.last_block = block if self.last_block is None else max(self.last_block, block)


def counted(count: int, noun: str) -> str:
    """`count` and `noun`, plural unless `count` is 1 ("1 thread", "2 preference pairs")."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return lines


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"


def _length_rows(lengths: list[int]) -> list[tuple[Any, ...]]:
    if not lengths:
        return [("-", "-", "-", "-", "-")]
    ordered = sorted(lengths)
    p90 = ordered[min(len(ordered) - 1, (9 * len(ordered)) // 10)]
    return [(ordered[0], statistics.median(ordered), f"{statistics.fmean(ordered):.1f}", p90, ordered[-1])]


def render(stats: Stats, source: Source, *, fmt: str, context_limit: int, max_pairs_per_thread: int) -> str:
    """The README.md text."""
    records_file, pairs_file, unpaired_file = f"records.{fmt}", f"preferences.{fmt}", f"unpaired.{fmt}"
    kinds = {k.label: k.content_class for k in AuthorKind}
    lines = [
        "---",
        "pretty_name: Choir curated discourse",
        "language:",
        "- en",
        "configs:",
        "- config_name: records",
        f"  data_files: {records_file}",
        "  default: true",
        "- config_name: preferences",
        f"  data_files: {pairs_file}",
        "- config_name: unpaired",
        f"  data_files: {unpaired_file}",
        "---",
        "",
        "# Choir curated discourse",
        "",
        "Every message of a Choir chain that its community has settled, with the verdict, the stake and the votes "
        "attached, exported from the indexer's database and the content store by `choir dataset export`.",
        "",
        "## Source",
        "",
        f"- chain id: {source.chain_id}",
        f"- hub (ChoirHub): `{source.hub}`",
        f"- blocks exported: {source.deploy_block} (deployment) to {source.last_block} (last indexed)"
        + (f", block hash `{source.last_block_hash}`" if source.last_block_hash else ""),
        f"- indexer schema version: {source.schema_version}",
        f"- options: format `{fmt}`, context limit {context_limit} characters, at most "
        f"{max_pairs_per_thread} preference pairs per thread",
        "",
        "## Files",
        "",
        f"- `{records_file}`: {counted(stats.records, 'record')} from {counted(stats.threads, 'thread')}"
        + (f" (message blocks {stats.first_block} to {stats.last_block})" if stats.records else ""),
        f"- `{pairs_file}`: {counted(stats.pairs, 'preference pair')} "
        f"from {counted(stats.threads_with_pairs, 'thread')}",
        f"- `{unpaired_file}`: {counted(stats.unpaired, 'unpaired example')} "
        f"({stats.approved_examples} approved, {stats.unpaired - stats.approved_examples} denied)",
        f"- `missing_bodies.json`: {counted(len(stats.missing), 'message')} whose body was never stored",
        "",
        "## Records",
        "",
        "One record per settled spec (approved, denied, split or expired) and per co-author post; the thread's "
        "root message counts as its creator's post. Pending specs are left out. Each carries the thread's "
        "context: the messages accepted into the thread (root and posts when posted, specs when approved) before "
        "the record's message was submitted, oldest first, keeping the most recent whole messages within the "
        f"context limit ({context_limit} characters of body); `context_omitted` counts those dropped by the "
        "limit, `context_missing` lists the indexes of those skipped because their body was never stored. "
        "Amounts are exact decimal strings: `stake`, `price_at_submission` and `reward` in CHOIR, the `_wei` "
        "fields in wei. Global ids (`message_id`, `citations`) are decimal strings (`thread_id << 64 | index`, "
        "beyond 64 bits). `novelty = 1 - max_similarity` and `novelty_reward` (CHOIR) are set when the oracle "
        "scored the message on chain, else null.",
        "",
        "### Outcomes",
        "",
        *_table(
            ("outcome", "records", "share"),
            [(o, stats.by_outcome[o], _share(stats.by_outcome[o], stats.records)) for o in OUTCOMES],
        ),
        "",
        "### Message kinds",
        "",
        *_table(("kind", "records"), [(k, stats.by_kind[k]) for k in KINDS]),
        "",
        "### Author kinds",
        "",
        *_table(
            ("author kind", "class", "records", "share"),
            [
                (k, kinds[k], stats.by_author_kind[k], _share(stats.by_author_kind[k], stats.records))
                for k in AUTHOR_KIND_NAMES
            ],
        ),
        "",
        "### Body length (characters)",
        "",
        *_table(("min", "median", "mean", "p90", "max"), _length_rows(stats.body_lengths)),
        "",
        f"Records with a novelty score: {stats.scored}"
        + (f" (mean novelty {statistics.fmean(stats.novelties):.4f})" if stats.novelties else "")
        + ".",
        "",
        "## Preference pairs",
        "",
        "Pairs of (context, chosen, rejected) for reward-model training, from the curators' verdicts within one "
        "thread. Each denied spec, in message-index order, is paired with the approved spec of the same thread "
        "nearest to it by message index (the earlier one on a tie); the pair's context is that of the earlier of "
        "the two, so both extend the same thread state. Only specs with stored bodies pair; split and expired "
        f"specs and posts never do. At most {max_pairs_per_thread} pairs per thread (the first denied specs).",
        "",
        "Each pair also carries both sides' novelty weight and the scorer (model and calibration version) that "
        "set it (`chosen_novelty_weight`, `chosen_novelty_model`, `chosen_novelty_calibration`, and the same for "
        "`rejected`; null when not scored).",
        "",
        "## Unpaired examples",
        "",
        "The unpaired preference format of Hugging Face TRL (`prompt`, `completion`, `label`, as its KTO trainer "
        "reads it): one example per approved (`label` true) or denied (`label` false) spec with a stored body. "
        "`prompt` is the spec's context as text (each accepted earlier message as `author: body`, oldest first, "
        "separated by blank lines, within the same context limit), `completion` the spec's body. Split and "
        "expired specs carry no clear verdict and are left out. Every example names its novelty weight and "
        "scorer (`novelty_weight`, `novelty_model`, `novelty_calibration`).",
        "",
        "## Novelty scale",
        "",
        "`max_similarity` is the score on chain: the scorer's embedding similarity to the most similar earlier "
        "message, **calibrated** onto the scale the reward curve was made for (OpenAI ada-002's), and "
        "`novelty_reward` / `novelty_weight` is the curve's weight of it "
        "(`0.01 * exp((ln 10 / 0.05) * (0.95 - s))`, 0 above 0.95, at most 100). Calibration version "
        f"{CALIBRATION_VERSION} (all-MiniLM-L6-v2): `s = clamp({INTERCEPT_WAD / WAD:.4f} + {SLOPE_WAD / WAD:.4f} "
        "* raw cosine, -1, 1)`, an affine map fitted on paraphrase, same-topic and unrelated sentence pairs; "
        "version 0 was the raw cosine. A body the scorer judged spam (repetition, gibberish, a copy with noise) "
        "has its score withheld: `max_similarity` 1.0, weight 0. Scores by scorer in this export:",
        "",
        *_table(
            ("model", "calibration", "records"),
            [(model, version, n) for (model, version), n in sorted(stats.scorers.items())] or [("-", "-", 0)],
        ),
        "",
        "## Missing bodies",
        "",
    ]
    if stats.missing:
        lines.append(
            f"{len(stats.missing)} messages that would be records have no stored body; they are left out of the "
            "data files, never invented. Message ids (thread/index):"
        )
        lines.append("")
        for entry in stats.missing[:MISSING_LISTED]:
            lines.append(
                f"- `{entry['message_id']}` ({entry['thread_id']}/{entry['message_index']}, {entry['kind']}, "
                f"{entry['outcome']})"
            )
        if len(stats.missing) > MISSING_LISTED:
            lines.append(f"- ... and {len(stats.missing) - MISSING_LISTED} more, in `missing_bodies.json`")
    else:
        lines.append("None: every exported message's body is stored.")
    lines.append("")
    return "\n".join(lines)
