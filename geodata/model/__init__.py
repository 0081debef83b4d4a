"""The data model: record schema and vocabularies, places, relations, quality, limits."""
