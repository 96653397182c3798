"""sw/rules.js under node against the server's own rules: the same definitions JSON
(/evaluations/definitions.json) must give the same messages as `evaluation_form.validate` and
the same GIR as `aggir.gir` — the offline form and the server never disagree."""
from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from ppas.domain import aggir, evaluation_form

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = json.loads(evaluation_form.definitions_json())

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run_js(body: str, data) -> object:
    """Run `body` (an async function body with `rules` and `data` in scope) under node."""
    script = f"""
        import {{ pathToFileURL }} from "node:url";
        import {{ readFileSync }} from "node:fs";
        const rules = await import(pathToFileURL({json.dumps(str(ROOT / "sw" / "rules.js"))}));
        const data = JSON.parse(readFileSync(0, "utf-8"));
        const result = await (async () => {{ {body} }})();
        process.stdout.write(JSON.stringify(result));
    """
    done = subprocess.run(["node", "--input-type=module", "-e", script], input=json.dumps(data),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_combination_of_modalities_gives_the_servers_gir():
    combos = [dict(zip(aggir.VARIABLES, values, strict=True))
              for values in itertools.product("ABC", repeat=len(aggir.VARIABLES))]
    in_js = run_js("return data.combos.map((c) => rules.gir(data.aggir, c));",
                   {"aggir": DEFINITIONS["aggir"], "combos": combos})
    assert len(in_js) == 3 ** 10
    mismatches = [(c, g) for c, g in zip(combos, in_js, strict=True) if g != aggir.gir(c)]
    assert mismatches == []


def test_gir_is_null_while_a_discriminant_variable_is_missing_or_unknown():
    complete = dict.fromkeys(aggir.VARIABLES, "A")
    missing = {k: v for k, v in complete.items() if k != "COM"}
    assert run_js("return data.cases.map((c) => rules.gir(data.aggir, c));",
                  {"aggir": DEFINITIONS["aggir"],
                   "cases": [complete, missing, {**complete, "COH": "D"}]}) == [6, None, None]


TODAY = date(2026, 12, 5)
CREATED = date(2026, 11, 20)
VALID = {"visitDate": "2026-12-01", **dict.fromkeys(aggir.VARIABLES, "B"),
         **{code: "A" for code in DEFINITIONS["illustrative"]},
         "livingConditions": "Seule, au 2e étage sans ascenseur", "needs": "Courses, ménage",
         "recommendedHoursPerMonth": "12,5", "preventionActions": ["chutes"], "comments": ""}
CASES = [
    VALID,
    {},
    {**VALID, "visitDate": "2026-12-06"},
    {**VALID, "visitDate": "2026-11-19"},
    {**VALID, "visitDate": "20/11/2026"},
    {**VALID, "visitDate": "31/02/2026"},
    {**VALID, "visitDate": "2026-13-01"},
    {**VALID, "visitDate": "demain"},
    {**VALID, "COH": "D", "GES": "", "TLI": "a"},
    {**VALID, "livingConditions": "x" * 2001, "needs": "é" * 2000, "comments": "   "},
    {**VALID, "comments": "😀" * 2000},
    {**VALID, "recommendedHoursPerMonth": "90"},
    {**VALID, "recommendedHoursPerMonth": "90,5"},
    {**VALID, "recommendedHoursPerMonth": "90.0000000000000001"},
    {**VALID, "recommendedHoursPerMonth": "-0,5"},
    {**VALID, "recommendedHoursPerMonth": "12,25"},
    {**VALID, "recommendedHoursPerMonth": "1 2"},
    {**VALID, "recommendedHoursPerMonth": "douze"},
    {**VALID, "recommendedHoursPerMonth": "1e1"},
    {**VALID, "preventionActions": ["chutes", "inconnue"]},
    {**VALID, "preventionActions": []},
    {**VALID, "livingConditions": 12},
]


@pytest.mark.parametrize("answers", CASES, ids=range(len(CASES)))
def test_the_browser_gives_the_servers_messages(answers):
    server = evaluation_form.validate(answers, today=TODAY, order_created_on=CREATED)
    browser = run_js("return rules.validate(data.definitions, data.answers, "
                     "{today: data.today, orderCreatedOn: data.created});",
                     {"definitions": DEFINITIONS, "answers": answers,
                      "today": TODAY.isoformat(), "created": CREATED.isoformat()})
    assert browser == server


def test_the_valid_answers_have_no_message_and_the_empty_ones_all_required():
    assert evaluation_form.validate(VALID, today=TODAY, order_created_on=CREATED) == {}
    required = {f["name"] for f in DEFINITIONS["fields"] if f["required"]}
    assert set(evaluation_form.validate({}, today=TODAY)) == required
