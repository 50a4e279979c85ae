"""One module per console page (or pair of page and form)."""
