"""Where the reference lists are read from: the ASPI tracker and the US DoD lists.

They are read-only copies of public lists (see that folder's README for source
and terms), kept outside the repository in ``shared/data`` beside it. Three
modules read them (designation review, screening, the ASPI importer); before
this module, each found the folder in its own way, one by an absolute path, so
a checkout anywhere else could not screen. ``CMF_ATLAS_REFERENCE_DATA`` names
another folder; it is read when the module is first imported.

>>> reference_data_dir({"CMF_ATLAS_REFERENCE_DATA": "/srv/lists"}).as_posix()
'/srv/lists'
>>> reference_data_dir({}).parts[-2:]
('shared', 'data')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: The setting that moves the folder.
REFERENCE_DATA_ENV = "CMF_ATLAS_REFERENCE_DATA"

#: ``shared/data`` beside the repository (this file is geodata/model/reference_data.py).
DEFAULT_REFERENCE_DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"


def reference_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The reference-list folder: ``CMF_ATLAS_REFERENCE_DATA`` if set, else the default."""
    value = environ.get(REFERENCE_DATA_ENV, "").strip()
    return Path(value).expanduser() if value else DEFAULT_REFERENCE_DATA_DIR


#: The folder in use by this process.
REFERENCE_DATA_DIR = reference_data_dir()
