"""Loading validates every record and names file, line, record and field."""

from __future__ import annotations

import pytest

from geodata.store.load import DatasetError, load_records


def test_sample_loads(sample_path):
    records = load_records([sample_path])
    assert [r.id for r in records][:2] == ["cluster-alpha", "cluster-beta"]
    assert {r.kind for r in records} == {"cluster", "fund", "zone"}


def test_bare_yaml_dates_become_iso_text(sample_path):
    rec = next(r for r in load_records([sample_path]) if r.id == "cluster-alpha")
    assert rec.sources[0].date == "2018-11-14"


def _write(tmp_path, text, name="bad.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_error_names_file_line_record_and_field(tmp_path, sample_path):
    text = sample_path.read_text(encoding="utf-8").replace("fund_size_rmb_bn: 2\n",
                                                           "fund_size_rmb_bn: lots\n")
    bad = _write(tmp_path, text)
    with pytest.raises(DatasetError) as info:
        load_records([bad])
    (problem,) = info.value.problems
    assert problem.file == str(bad)
    assert problem.record == "#4 (id 'fund-small')"
    assert problem.field == "fund_size_rmb_bn"
    assert "lots" in problem.message
    line_of_record = text.splitlines().index("- id: fund-small") + 1
    assert problem.line == line_of_record
    assert f"{bad}:{line_of_record}" in str(info.value)


def test_all_problems_reported_at_once(tmp_path, sample_path):
    text = sample_path.read_text(encoding="utf-8")
    text = text.replace("province: Tianjin", "province: Narnia").replace("year: 2016", "year: 16")
    with pytest.raises(DatasetError) as info:
        load_records([_write(tmp_path, text)])
    assert {p.field for p in info.value.problems} == {"province", "year"}


def test_duplicate_ids_across_files(tmp_path, sample_path):
    a = _write(tmp_path, sample_path.read_text(encoding="utf-8"), "a.yaml")
    b = _write(tmp_path, sample_path.read_text(encoding="utf-8"), "b.yaml")
    with pytest.raises(DatasetError) as info:
        load_records([a, b])
    problems = info.value.problems
    assert len(problems) == 7
    assert all(p.field == "id" and "duplicate id" in p.message and p.file == str(b)
               for p in problems)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "file is empty"),
        ("a: 1\n", "expected a YAML list"),
        ("- [unclosed\n", "not valid YAML"),
        ("- just a string\n", "expected a mapping"),
        ("- {id: x, lat: .nan}\n", "finite"),
    ],
)
def test_malformed_files(tmp_path, content, expected):
    with pytest.raises(DatasetError, match=expected):
        load_records([_write(tmp_path, content)])


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("- name_en: Caf\xe9\n".encode("latin-1"))
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_records([path])


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DatasetError, match=r"nope\.yaml"):
        load_records([tmp_path / "nope.yaml"])


def test_missing_required_field(tmp_path, sample_path):
    text = sample_path.read_text(encoding="utf-8").replace("  name_zh: 大基金\n", "")
    with pytest.raises(DatasetError) as info:
        load_records([_write(tmp_path, text)])
    (problem,) = info.value.problems
    assert (problem.field, problem.message) == ("name_zh", "required field is missing")
