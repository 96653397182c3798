"""The Jinja filters the templates use for French text."""
from __future__ import annotations

from ppas.web.templating import make_environment


def test_plural_filters_agree_with_the_count(tmp_path):
    env = make_environment(tmp_path)
    template = env.from_string(
        '{{ n | count_of("anomalie", "anomalies") }} {{ n | plural("affichée", "affichées") }}')
    assert template.render(n=1) == "1 anomalie affichée"
    assert template.render(n=0) == "0 anomalie affichée"
    assert template.render(n=50) == "50 anomalies affichées"
