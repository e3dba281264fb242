"""The mobile network (MCCMNC) a report names for a recipient: plausible, and stable for one number."""

from __future__ import annotations

import zlib

KOREAN_NETWORKS = ("45005", "45006", "45008")  # SKT, LGU+, KT: the three the provider's page names
_ABROAD: dict[str, tuple[str, ...]] = {
    "1": ("310260", "310410"),
    "44": ("23410", "23415"),
    "49": ("26201", "26202"),
    "61": ("50501", "50502"),
    "63": ("51502", "51503"),
    "65": ("52501", "52503"),
    "66": ("52001", "52003"),
    "81": ("44010", "44020"),
    "84": ("45201", "45204"),
    "86": ("46000", "46001"),
    "852": ("45400", "45406"),
    "886": ("46692", "46697"),
}
UNKNOWN_NETWORK = "90101"  # a shared international MCC; a real network code, bound to no country


def network_for(to_country: str, to: str) -> str:
    """The MCCMNC of the recipient's network, picked by a stable hash of the number."""
    choices = KOREAN_NETWORKS if to_country == "82" else _ABROAD.get(to_country, (UNKNOWN_NETWORK,))
    return choices[zlib.crc32(to.encode()) % len(choices)]
