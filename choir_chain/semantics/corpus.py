"""The calibration corpus: sentence pairs written for fitting MiniLM's similarity scale (docs/novelty.md).

Three classes of pairs, each with the similarity the novelty curve's scale (OpenAI ada-002, protocol section 7)
gives such a pair, i.e. the target of the calibration:

- `PARAPHRASES`: the same statement reworded (a repeat: no reward). Target 0.96, just past the curve's zero at
  0.95.
- `SAME_TOPIC`: two different contributions to one discussion (on topic, something new said). Target 0.85,
  weight 1 (a hundredth of the cap).
- `UNRELATED`: two statements on unrelated subjects (the most novel a message can be). Target 0.72, under the
  0.75 at which the curve reaches its cap.

The targets are where ada-002 puts these classes (its similarities crowd into [0.7, 1]: unrelated text near
0.7, related text in the 0.8s, rewordings above 0.95); the curve was tuned on that scale. The demo's messages
(`choir_chain.semantics.demo`) are not used for the fit; they are the check.
"""

from __future__ import annotations

Pair = tuple[str, str]

PARAPHRASE_TARGET = 0.96
SAME_TOPIC_TARGET = 0.85
UNRELATED_TARGET = 0.72

PARAPHRASES: tuple[Pair, ...] = (
    (
        "A summary must cite every message it condenses so readers can check it.",
        "Every message a summary condenses has to be cited, so that a reader can verify it.",
    ),
    (
        "We ran the garden's budget as a DAO for a year and learned a lot.",
        "For a year our garden budget was run as a DAO, and we learned a great deal.",
    ),
    (
        "Quadratic voting lets a minority with strong preferences be heard.",
        "With quadratic voting, a minority that cares strongly can make itself heard.",
    ),
    (
        "The treasury should pay for the weekly summary out of its reserves.",
        "The weekly summary ought to be paid for from the treasury's reserves.",
    ),
    (
        "Newcomers stayed informed because someone wrote a summary every week.",
        "A weekly summary is what kept the newcomers informed.",
    ),
    (
        "Proposals need a quorum of one third of the shares to pass.",
        "To pass, a proposal needs one third of the shares as a quorum.",
    ),
    (
        "Deniers are paid from the stake of the spec they rejected.",
        "The stake of a rejected spec goes to the co-authors who denied it.",
    ),
    (
        "I think the approval window of seven days is too long for a small group.",
        "For a small group, a seven-day approval window seems too long to me.",
    ),
    (
        "Hurwicz's paper explains incentive compatibility in plain words.",
        "In plain language, Hurwicz's paper sets out what incentive compatibility means.",
    ),
    (
        "The meeting was moved to Thursday because half of us were away.",
        "Since half of the group was away, we moved the meeting to Thursday.",
    ),
    (
        "Tomatoes need at least six hours of direct sun each day.",
        "Each day, tomato plants require a minimum of six hours of direct sunlight.",
    ),
    (
        "The indexer is the only process that writes to the database.",
        "Only the indexer writes to the database; no other process does.",
    ),
    (
        "Prices rise when the thread is active and fall when it goes quiet.",
        "A thread's price goes up while it is active and down once it becomes quiet.",
    ),
    (
        "Please keep dissenting views in the summary, with their authors.",
        "Dissenting opinions should stay in the summary, together with who wrote them.",
    ),
    (
        "Our compost bins filled up faster than anyone expected.",
        "The compost bins were full much sooner than any of us had predicted.",
    ),
    (
        "An editor chosen by lot each week should write the summary.",
        "Each week the summary should be written by an editor picked at random.",
    ),
)

SAME_TOPIC: tuple[Pair, ...] = (
    (
        "A summary must cite every message it condenses so readers can check it.",
        "Summaries should drop greetings and repetition but keep every open question.",
    ),
    (
        "We ran the garden's budget as a DAO for a year and learned a lot.",
        "Buying seeds in bulk through the shared treasury cut our costs by a third.",
    ),
    (
        "Quadratic voting lets a minority with strong preferences be heard.",
        "Quadratic voting is easy to game with fake identities unless membership is verified.",
    ),
    (
        "The treasury should pay for the weekly summary out of its reserves.",
        "Any transfer from the treasury should wait two days so members can object.",
    ),
    (
        "Proposals need a quorum of one third of the shares to pass.",
        "Votes should be weighted by shares held when the proposal was made, not now.",
    ),
    (
        "Deniers are paid from the stake of the spec they rejected.",
        "A spec nobody votes on expires after the window and its stake goes to the treasury.",
    ),
    (
        "Hurwicz's paper explains incentive compatibility in plain words.",
        "Myerson's work on optimal auctions is the next thing to read after the revelation principle.",
    ),
    (
        "Tomatoes need at least six hours of direct sun each day.",
        "We rotate beans and squash between beds every season to keep the soil healthy.",
    ),
    (
        "The indexer is the only process that writes to the database.",
        "After a chain reorganisation the indexer rolls back the blocks it lost.",
    ),
    (
        "Prices rise when the thread is active and fall when it goes quiet.",
        "Citations from other threads raise a thread's price, but only once per citing thread.",
    ),
    (
        "Our compost bins filled up faster than anyone expected.",
        "The water bill doubled in July, so we installed rain barrels on the shed.",
    ),
    (
        "An editor chosen by lot each week should write the summary.",
        "A summary should say what changed since the previous one, so nobody re-reads everything.",
    ),
    (
        "I think the approval window of seven days is too long for a small group.",
        "Co-authors who never vote should lose their say after a month of silence.",
    ),
    (
        "Ranked-choice ballots avoid the spoiler effect of plurality voting.",
        "For a group of ten, a conversation beats any formal voting rule.",
    ),
    (
        "Language models write fluent summaries but sometimes invent facts.",
        "An AI-written note should say which model wrote it and from what prompt.",
    ),
    (
        "Stake prices should make spam expensive without shutting out newcomers.",
        "A newcomer who is denied loses the stake, which deters low-effort specs.",
    ),
)

UNRELATED: tuple[Pair, ...] = (
    (
        "A summary must cite every message it condenses so readers can check it.",
        "The referee showed a red card in the final minute of the match.",
    ),
    (
        "We ran the garden's budget as a DAO for a year and learned a lot.",
        "Photosynthesis turns sunlight, water and carbon dioxide into sugar.",
    ),
    (
        "Quadratic voting lets a minority with strong preferences be heard.",
        "Bake the bread at two hundred degrees until the crust sounds hollow.",
    ),
    (
        "The treasury should pay for the weekly summary out of its reserves.",
        "The ferry to the island leaves every hour from the northern pier.",
    ),
    (
        "Proposals need a quorum of one third of the shares to pass.",
        "Octopuses have three hearts and blue blood.",
    ),
    (
        "Deniers are paid from the stake of the spec they rejected.",
        "The violinist tuned her instrument before the second movement.",
    ),
    (
        "Hurwicz's paper explains incentive compatibility in plain words.",
        "Heavy snow closed the mountain pass for the rest of the week.",
    ),
    (
        "Tomatoes need at least six hours of direct sun each day.",
        "The compiler reports an error when a variable is used before it is declared.",
    ),
    (
        "The indexer is the only process that writes to the database.",
        "My grandmother's recipe uses cardamom instead of cinnamon.",
    ),
    (
        "Prices rise when the thread is active and fall when it goes quiet.",
        "The museum's new wing displays textiles from the fourteenth century.",
    ),
    (
        "Our compost bins filled up faster than anyone expected.",
        "The striker signed a three-year contract with the club.",
    ),
    (
        "An editor chosen by lot each week should write the summary.",
        "Volcanic ash can ground flights across an entire continent.",
    ),
    (
        "I think the approval window of seven days is too long for a small group.",
        "The lighthouse keeper painted the railings white every spring.",
    ),
    (
        "Ranked-choice ballots avoid the spoiler effect of plurality voting.",
        "Penguins huddle together to survive the Antarctic winter.",
    ),
    (
        "Language models write fluent summaries but sometimes invent facts.",
        "The bakery on the corner sells out of croissants by nine.",
    ),
    (
        "Stake prices should make spam expensive without shutting out newcomers.",
        "Jupiter's great red spot is a storm larger than the Earth.",
    ),
)

CLASSES: tuple[tuple[str, tuple[Pair, ...], float], ...] = (
    ("paraphrase", PARAPHRASES, PARAPHRASE_TARGET),
    ("same topic", SAME_TOPIC, SAME_TOPIC_TARGET),
    ("unrelated", UNRELATED, UNRELATED_TARGET),
)
"""(class name, its pairs, its target on the curve's scale)."""
