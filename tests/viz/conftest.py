"""Fixtures for the viz tests; they live in viz_fixtures.py so the report tests share them."""

from viz_fixtures import explanation, item_map, movies, plain_explanation  # noqa: F401
