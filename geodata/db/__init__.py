"""The team store: one shared, versioned atlas in PostgreSQL with PostGIS.

The embedded YAML datasets stay the single-user default; this package adds
a database the team edits together. Modules, each with one job:

- :mod:`geodata.db.cluster`: a local PostgreSQL cluster in a project folder
  (initdb as ``postgres``, 127.0.0.1 only), for ``make db`` and the tests;
- :mod:`geodata.db.connect`: where the database is (DSN) and connecting;
- :mod:`geodata.db.migrate`: versioned SQL migrations, then the vocabularies
  and rules generated from :mod:`geodata.model.schema`;
- :mod:`geodata.db.transfer`: curated YAML into the database and back, byte
  for byte;
- :mod:`geodata.db.records`: saving edits with optimistic concurrency,
  links, history, revert, the review queue and approval;
- :mod:`geodata.db.published`: the approved snapshot of each record, which
  is all viewers read (an edit waiting for review does not hide it);
- :mod:`geodata.db.team`: the dashboard's team mode (``CMF_ATLAS_DB``),
  sessions and turning the Team page's form into edits;
- :mod:`geodata.db.accounts`: accounts (argon2 hashes), rate-limited sign-in,
  sessions under a PostgreSQL role;
- :mod:`geodata.db.backup`: pg_dump / pg_restore.
"""
