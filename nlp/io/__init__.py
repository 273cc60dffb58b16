"""Tables in and out (CSV/TSV, XLSX, JSONL, Parquet), streamed in chunks, and crash-safe batch tagging.

``formats``: read any table in chunks / write one; ``tagging``: ``tag_file``, the engine of ``voc tag``.
"""
