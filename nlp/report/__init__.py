"""``voc report``: one self-contained HTML page summarising a tagged export.

``data`` reduces the tagged file to per-row facts, each chart module builds one ``Section`` from
them (or a "no data" note), and ``page`` puts the sections together with plotly.js inline.
"""
