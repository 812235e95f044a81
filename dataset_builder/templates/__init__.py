"""Packaged Jinja templates of the dataset builder (the dataset card)."""
