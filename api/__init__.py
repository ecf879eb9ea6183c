"""The Choir gateway: a FastAPI app over the indexer's database and the chain (see `api.app.create_app`)."""
