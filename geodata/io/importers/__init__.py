"""Converters that turn reference lists into curated dataset files (re-runnable)."""
