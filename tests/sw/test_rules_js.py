"""sw/rules.js and sw/transfer.js run under node: the offline form's rules interpreter, its GIR,
and the import file's checks (the browser tests then run them in Chromium)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_AGGIR = json.loads((Path(__file__).parent / "aggir_sample.json").read_text())
CODES = SAMPLE_AGGIR["variables"]

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run_js(body: str, data) -> object:
    """Run `body` (an async function body with `rules` and `data` in scope) under node."""
    script = f"""
        import {{ pathToFileURL }} from "node:url";
        const rules = await import(pathToFileURL({json.dumps(str(ROOT / "sw" / "rules.js"))}));
        const data = JSON.parse(process.argv[1]);
        const result = await (async () => {{ {body} }})();
        process.stdout.write(JSON.stringify(result));
    """
    done = subprocess.run(["node", "--input-type=module", "-e", script, json.dumps(data)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def js_gir(aggir: dict, cases: list[dict]) -> list[int | None]:
    return run_js("return data.cases.map((c) => rules.gir(data.aggir, c));",
                  {"aggir": aggir, "cases": cases})


def modalities(default: str = "A", **changes: str) -> dict:
    return {code: changes.get(code, default) for code in CODES}


def test_gir_of_the_sample_weights_follows_the_annex():
    cases = [
        modalities("A"),                        # H: sum 0 → rank 13 → GIR 6
        modalities("C"),                        # A: 4440 ≥ 4380 → rank 1 → GIR 1
        modalities("A", COH="C", ORI="C", TRA="C", DIN="C"),  # A: 4200 → rank 2 → GIR 2
        modalities("A", TOI="B", HAB="B"),      # H: 4000 → rank 11 → GIR 4
        modalities("A", TOI="B"),               # H: 2000 → rank 12 → GIR 5
        modalities("A", ALI="C", TRA="C"),      # D: 4000 → rank 7 → GIR 2
    ]
    assert js_gir(SAMPLE_AGGIR, cases) == [6, 1, 2, 4, 5, 2]


def test_gir_is_none_while_a_discriminant_variable_is_missing_or_unknown():
    incomplete = modalities("A")
    del incomplete["COM"]
    assert js_gir(SAMPLE_AGGIR, [incomplete, modalities("A", COH="D")]) == [None, None]


DEFINITIONS = {
    "version": "essai",
    "sections": [{"title": "Visite", "fields": [
        {"name": "visitDate", "label": "Date de la visite", "type": "date", "required": True,
         "notAfterToday": True},
        {"name": "COH", "label": "Cohérence", "type": "choice", "required": True,
         "choices": [{"value": "A", "label": "A"}, {"value": "B", "label": "B"}, "C"]},
        {"name": "hours", "label": "Heures d'aide par mois", "type": "integer", "min": 0, "max": 120},
        {"name": "comments", "label": "Commentaires", "type": "text", "maxLength": 5},
        {"name": "prevention", "label": "Actions de prévention", "type": "multichoice",
         "choices": ["chutes", "nutrition"]},
        {"name": "other", "label": "Précisez", "type": "text"},
    ]}],
    "rules": [{"rule": "requiredIf", "field": "other", "when": {"field": "prevention", "equals": "nutrition"},
               "message": "Précisez l'action de nutrition."}],
}


def validate(answers: dict) -> dict:
    return run_js("return rules.validate(data.definitions, data.answers, new Date('2026-12-05T10:00:00'));",
                  {"definitions": DEFINITIONS, "answers": answers})


def test_valid_answers_have_no_message():
    assert validate({"visitDate": "2026-12-05", "COH": "C", "hours": "120", "comments": "ok",
                     "prevention": ["chutes"]}) == {}


def test_each_rule_says_in_french_what_to_fix():
    errors = validate({"visitDate": "2026-12-06", "COH": "D", "hours": "-1", "comments": "trop long",
                       "prevention": ["nutrition", "autre"]})
    assert errors == {
        "visitDate": "« Date de la visite » ne peut pas être dans le futur.",
        "COH": "« Cohérence » : choisissez l'une des réponses proposées.",
        "hours": "« Heures d'aide par mois » doit être au moins 0.",
        "comments": "« Commentaires » : 5 caractères au plus (9 saisis).",
        "prevention": "« Actions de prévention » : ne cochez que des réponses proposées.",
        "other": "Précisez l'action de nutrition.",
    }
    assert validate({"hours": "2,5"}) == {
        "visitDate": "« Date de la visite » est obligatoire.",
        "COH": "« Cohérence » est obligatoire.",
        "hours": "« Heures d'aide par mois » : saisissez un nombre entier.",
    }
    assert validate({"visitDate": "2026-02-30x", "COH": "A", "hours": "121"}) == {
        "visitDate": "« Date de la visite » : saisissez une date valide (jj/mm/aaaa).",
        "hours": "« Heures d'aide par mois » doit être au plus 120.",
    }
