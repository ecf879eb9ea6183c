"""`choir simulate`: an agent-based Choir community on the pure model or on a devnet.

`agents.py` (who the agents are and what they choose), `engine.py` (the day loop), `pricer.py` (the QAHO
round of each day), `ledger.py` (what a ledger must do), `model_ledger.py` (the contracts' arithmetic in
Python integers), `chain_ledger.py` (the real contracts on a devnet), `history.py` (rows and CSV),
`plots.py` (PNG figures), `cli.py` (the command). `docs/economics.md` explains the model with its figures.
"""
