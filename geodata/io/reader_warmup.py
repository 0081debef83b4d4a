"""Imported once by :mod:`geodata.io.bounded`'s fork server: read one tiny file there.

Importing the importer is not enough to make a read fast: the first one
also opens PROJ's database, loads the basemap's province index and builds
pydantic's validators (about 0.25 s). Done once in the fork server, every
child forked from it starts warm.
"""

from __future__ import annotations

from geodata.io.importer import preview_import

preview_import(b"name,lat,lon,year\nWarm-up,39.9,116.4,2018\n", "warm-up.csv")
