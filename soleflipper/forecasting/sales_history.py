"""Streaming readers of the two real StockX sales layouts into sales events.

Both return one row per sale with ``product``, ``size`` (str), ``sold_at`` (datetime64 UTC) and
``price`` (USD), plus the static columns the file has. Rows are read with the csv module from
the (optionally gzipped) file and collected into column lists, never a whole-file pandas parse.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd


def _open_text(path: str | Path) -> io.TextIOBase:
    path = Path(path)
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    if gz:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def normalise_size(raw: str) -> str:
    """'11.0' and '11' are the same size; S/M/L/XL and '6.5Y' stay as they are."""
    s = raw.strip()
    try:
        value = float(s)
    except ValueError:
        return s
    return str(int(value)) if value.is_integer() else f"{value:g}"


def read_stockx_contest(path: str | Path) -> pd.DataFrame:
    """StockX Data Contest 2019 CSV: Order Date, Brand, Sneaker Name, Sale Price, Retail Price,
    Release Date, Shoe Size, Buyer Region. Brand loses its leading space."""
    cols: dict[str, list] = {
        k: [] for k in ("product", "size", "sold_at", "price", "retail_price", "release_date", "brand")
    }
    with _open_text(path) as fh:
        for row in csv.DictReader(fh):
            cols["product"].append(row["Sneaker Name"].strip())
            cols["size"].append(normalise_size(row["Shoe Size"]))
            cols["sold_at"].append(row["Order Date"].strip())
            cols["price"].append(float(row["Sale Price"].replace("$", "").replace(",", "")))
            cols["retail_price"].append(float(row["Retail Price"].replace("$", "").replace(",", "")))
            cols["release_date"].append(row["Release Date"].strip())
            cols["brand"].append(row["Brand"].strip())
    df = pd.DataFrame(cols)
    df["sold_at"] = pd.to_datetime(df["sold_at"], utc=True)
    df["release_date"] = pd.to_datetime(df["release_date"])
    df["price"] = df["price"].astype(np.float64)
    return df


def read_sneakertracker(path: str | Path) -> pd.DataFrame:
    """SneakerTracker feed: product, category, createdAt (UTC, no zone), amount (USD), shoeSize.
    Exact duplicate rows are kept (the file's README: some are real multi-pair sales)."""
    cols: dict[str, list] = {k: [] for k in ("product", "size", "sold_at", "price", "category")}
    with _open_text(path) as fh:
        for row in csv.DictReader(fh):
            cols["product"].append(row["product"].strip())
            cols["size"].append(normalise_size(row["shoeSize"]))
            cols["sold_at"].append(row["createdAt"].strip())
            cols["price"].append(float(row["amount"]))
            cols["category"].append(row["category"].strip())
    df = pd.DataFrame(cols)
    df["sold_at"] = pd.to_datetime(df["sold_at"], utc=True)
    df["price"] = df["price"].astype(np.float64)
    return df
