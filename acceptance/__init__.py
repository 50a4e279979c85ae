"""Acceptance against the provincial tables: tier catalogues as data, declared values with
evidence, and the report that puts every row, its requirement, the result and a verdict
together (see `catalogue`, `declared`, `report`).
"""
