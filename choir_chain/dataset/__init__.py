"""`choir_chain.dataset`: the chain's curated messages as a training dataset (`choir dataset export`).

`records.py` reads the indexer's database and the content store into plain dicts, `preferences.py` forms the
(context, chosen, rejected) pairs, `writer.py` writes JSON Lines or Parquet, `card.py` the dataset card,
`export.py` ties them together into one output folder, `cli.py` is the Typer sub-app. See docs/dataset.md.
"""
