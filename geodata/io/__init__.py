"""Reading and writing files safely: readers, importers, exports, bounded child reads."""
