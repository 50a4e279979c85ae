"""Database schema: numbered SQL migrations and the code that applies them."""
