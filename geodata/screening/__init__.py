"""Screen a list of names against the atlas and the US lists, and place addresses.

Modules, one job each: :mod:`~geodata.screening.normalise` (how names are
compared), :mod:`~geodata.screening.targets` (what a name is screened
against), :mod:`~geodata.screening.match` (candidate matches with score and
basis), :mod:`~geodata.screening.places` (Chinese and English addresses to
administrative units and points, offline), :mod:`~geodata.screening.listfile`
(reading the user's CSV or XLSX list safely) and
:mod:`~geodata.screening.report` (the reviewed result as CSV or XLSX).
"""
