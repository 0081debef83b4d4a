"""Drawing the map at scale: what the browser is sent and how it draws it.

- :mod:`geodata.render.binary`: a selection's points packed as typed arrays
  (Float32 coordinates, a Uint8 symbol code, a Uint32 record index) for the
  canvas point layer (``geodata/render/web/cmf_points.js``).
"""
