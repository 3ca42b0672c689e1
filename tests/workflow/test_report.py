"""`snakemake --report results/report.html` on a copy of the shared smoke run: one
self-contained HTML file with the AUC tables, ROC curves and per-video score plots, and their
captions."""

from __future__ import annotations

import base64
import re

import pytest

from tests.helpers.workflow import copy_run, ok, snakemake

pytestmark = pytest.mark.slow


def embedded(html: str, filename: str) -> str:
    """The content of a file the report embeds as a base64 data URI."""
    m = re.search(rf"data:[\w/+.-]+;charset=[\w-]+;filename={re.escape(filename)};"
                  r"base64,([A-Za-z0-9+/=]+)", html)
    assert m, f"{filename} is not embedded"
    return base64.b64decode(m[1]).decode()


@pytest.fixture(scope="module")
def report(smoke_run, tmp_path_factory) -> str:
    root = copy_run(smoke_run, tmp_path_factory.mktemp("report") / "wf")
    out = ok(snakemake("--report", "results/report.html", "--configfile", "config/smoke.yaml",
                       cwd=root))
    assert "Report created" in out
    return (root / "results/report.html").read_text()


def test_report_is_self_contained(report):
    # Nothing is fetched: no script, stylesheet or image from the network; the figures are
    # embedded as data URIs (the scripts hold URLs only inside strings and comments).
    assert not re.search(r"""<(script|link|img)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?//""",
                         report, re.I)
    assert not re.search(r"""\b(src|href)\s*=\s*\\?["']https?://""", report)
    assert report.count("data:image/png;") >= 2  # roc.png and at least one scores_*.png
    assert "roc.png" in report and re.search(r"scores_s03_test_\d+\.png", report)


def test_report_has_the_captions_and_categories(report):
    for text in [
        "Few-shot scene-adaptive anomaly detection",  # workflow/report/workflow.rst
        "This run: backbones rgan",  # rendered from the config
        "Frame-level AUC, one row per source",  # auc.rst
        "AUC table in the paper",  # tables.rst
        "ROC curve of every method and K on target",  # figures.rst, roc.png
        "Per-video score plot",  # figures.rst, scores_*.png
        "AUC tables", "ROC curves", "Per-video scores",  # categories
    ]:
        assert text in report, text
    assert "{%" not in report and "{{ snakemake" not in report  # captions were rendered


def test_report_embeds_the_auc_tables(report):
    assert "| synthetic | scene03 | rgan |" in embedded(report, "auc.md")
    auc = embedded(report, "auc.csv").splitlines()
    assert auc[0] == "source,target,backbone,method,shots,seed,frame_auc,video_auc"
    assert len(auc) == 1 + 2 * (1 + 2 * 2)  # 2 methods x (K = 0, K = 1, 2 x 2 seeds)
    assert embedded(report, "auc_summary.csv").startswith("source,target,backbone,method")
