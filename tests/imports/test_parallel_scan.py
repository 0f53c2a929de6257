"""Opening a big Meta export with forked readers gives exactly what one process gives."""
import pytest

from bench import gen_dm_export
from crm.imports.dm_exports.parsers import ExportError, base, open_export


@pytest.fixture
def export(tmp_path):
    out = tmp_path / "export"
    gen_dm_export.main([str(out), "--messages", "3000", "--threads", "17", "--seed", "4"])
    return out


def everything(source):
    threads = list(source.threads())
    return (threads, source.candidates_for_me(), source.platform, source.layout,
            source.detected_me,
            {t.key: [(m.sender, m.sent_at, m.body, m.media, m.external_id, m.fingerprint,
                      m.is_outbound) for m in source.messages(t, "Alex Rivera")]
             for t in threads})


def test_forked_readers_give_the_same_export(export, monkeypatch):
    monkeypatch.setattr(base, "PARALLEL_SCAN_BYTES", 0)
    with open_export(export) as one:
        alone = everything(one)
    with open_export(export, scan_workers=2) as two:
        assert two._extra_spools        # really read by the workers
        together = everything(two)
    assert together == alone
    assert len(alone[0]) == 17 and sum(len(m) for m in alone[5].values()) > 2900
    with pytest.raises(ValueError):      # closed: the workers' spools are gone too
        list(two.messages(alone[0][0], "Alex Rivera"))


def test_a_broken_file_read_by_a_worker_names_the_file(export, monkeypatch):
    monkeypatch.setattr(base, "PARALLEL_SCAN_BYTES", 0)
    broken = sorted(export.rglob("message_1.json"))[5]
    broken.write_text('{"messages": [')
    with pytest.raises(ExportError) as e:
        open_export(export, scan_workers=2)
    assert "message_1.json" in str(e.value) and "malformed JSON" in str(e.value)


def test_small_exports_are_read_in_one_process(export):
    with open_export(export, scan_workers=2) as source:
        assert not source._extra_spools and len(list(source.threads())) == 17
