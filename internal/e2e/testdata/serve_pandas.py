"""Reads a table at a version from dx serve by URL with pandas.

Usage: serve_pandas.py URL OUTFILE
Writes {"columns": [...], "rows": {id: [values...]}} as JSON to OUTFILE.
"""
import json
import sys

import pandas as pd

url, outfile = sys.argv[1:3]
df = pd.read_csv(url, dtype=str, keep_default_na=False)
out = {"columns": list(df.columns), "rows": {r[0]: list(r) for r in df.itertuples(index=False, name=None)}}
with open(outfile, "w") as f:
    json.dump(out, f)
