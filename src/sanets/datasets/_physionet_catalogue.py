"""The catalogue of the paper's 15 PhysioNet databases: versions, first records and the SHA-256 of known files.

:mod:`sanets.datasets.physionet` locates, downloads and loads them with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

PHYSIONET_FILES_URL = "https://physionet.org/files/"


@dataclass(frozen=True)
class PhysioNetDatabase:
    """One PhysioNet database of the paper.

    Attributes
    ----------
    name : str
        PhysioNet slug (``"mitdb"``), also the dataset name for ``sanets data``.
    title : str
        Full title on PhysioNet.
    version : str
        Version downloaded (``https://physionet.org/files/<name>/<version>/``).
    first_record : str or None
        First line of the database's ``RECORDS`` file, where confirmed;
        ``None`` where it could not be confirmed offline: the download then
        reads ``RECORDS`` and stores it beside the record.
    note : str
        Caveats (e.g. the record we expect where unconfirmed).
    """

    name: str
    title: str
    version: str
    first_record: str | None
    note: str = ""


def _db(name: str, title: str, version: str, first_record: str | None, note: str = "") -> PhysioNetDatabase:
    return PhysioNetDatabase(name, title, version, first_record, note)


# Versions: the authors' code let wfdb pick a version; their README assumed
# 1.0.0 everywhere, but sufhsdb is at 1.0.1. The others are 1.0.0 as far as
# could be checked offline (not verifiable here; a wrong pin fails loudly
# with the URL it tried).
PHYSIONET_DATABASES: MappingProxyType[str, PhysioNetDatabase] = MappingProxyType(
    {
        db.name: db
        for db in (
            _db("apnea-ecg", "Apnea-ECG Database", "1.0.0", "a01"),
            _db("bidmc", "BIDMC PPG and Respiration Dataset", "1.0.0", "bidmc01"),
            # First line of RECORDS as listed in a public copy of the database (its SHA-256 list checks out).
            _db("bpssrat", "Blood Pressure in Salt-Sensitive Dahl Rats", "1.0.0", "ssbn13hs01"),
            _db("cebsdb", "Combined measurement of ECG, Breathing and Seismocardiograms", "1.0.0", "b001"),
            _db("ctu-uhb-ctgdb", "CTU-CHB Intrapartum Cardiotocography Database", "1.0.0", "1001"),
            _db("drivedb", "Stress Recognition in Automobile Drivers", "1.0.0", "drive01"),
            _db("emgdb", "Examples of Electromyograms", "1.0.0", "emg_healthy"),
            _db("mitdb", "MIT-BIH Arrhythmia Database", "1.0.0", "100"),
            # RECORDS sorts byte-wise: Subject10_... comes before Subject1_...
            _db("noneeg", "Non-EEG Dataset for Assessment of Neurological Status", "1.0.0", "Subject10_AccTempEDA"),
            _db(
                "prcp",
                "Physiologic Response to Changes in Posture",
                "1.0.0",
                None,
                "first record not confirmed offline (probably 12726); resolved from RECORDS at download",
            ),
            _db("shhpsgdb", "Sleep Heart Health Study PSG Database", "1.0.0", "0000"),
            _db("slpdb", "MIT-BIH Polysomnographic Database", "1.0.0", "slp01a"),
            _db("sufhsdb", "Shiraz University Fetal Heart Sounds Database", "1.0.1", "f100"),
            _db("voiced", "VOICED Database", "1.0.0", "voice001"),
            _db(
                "wrist",
                "Wrist PPG During Exercise",
                "1.0.0",
                None,
                "first record not confirmed offline (probably s1_high_resistance_bike); resolved from RECORDS at download",
            ),
        )
    }
)
"""The paper's 15 PhysioNet databases, keyed by slug, in the paper's order."""

# Every downloaded file is checked against a SHA-256 that ships with sanets
# (here) or, for files not here, against PhysioNet's SHA256SUMS.txt of the
# pinned version; a file neither covers is not downloaded. Keys are
# (database, file name relative to https://physionet.org/files/<db>/<version>/).
# Sources: shared/data/PROVENANCE.md of the sanets project, plus the notes.
PINNED_SHA256 = {
    # mitdb 1.0.0 record 100: the original format-212 file (1,950,000 bytes).
    ("mitdb", "100.dat"): "b2ea3c250e56e48f4b7b90697832b8ecd1afa1e0bb31f2dcfea4ed6e1075a639",
    # PhysioNet's 143-byte header (CRLF). The copy in shared/data is wfdb-python's
    # test fixture (a comment line and a blank line added); with those two lines
    # removed its bytes hash to this value, which is also the one the public
    # repository briday1/sigvue-examples (tests/test_ecg_download.py) records for
    # https://physionet.org/files/mitdb/1.0.0/100.hea.
    ("mitdb", "100.hea"): "60ebc904c7bf3e04d142638d3fd5c903e8dc9f10f1ea3264e07926aa089ee75e",
    # emgdb 1.0.0 record emg_healthy: the shared .dat as is; for the header, the
    # shared copy (stored by its source repository with LF line endings and no final
    # line break) with PhysioNet's CRLF line endings restored. Both values equal the
    # ones a public copy of emgdb 1.0.0's SHA256SUMS.txt lists.
    ("emgdb", "emg_healthy.dat"): "4990f34f0ffb314f6ce70c1d2089b7ce41fa96d19fcd9fb334815ca5033966fd",
    ("emgdb", "emg_healthy.hea"): "61221ce33e167d246ec2ea8984ce2f25882b32b4d90bd7ef785c7b56ef95bac5",
    # ctu-uhb-ctgdb 1.0.0 record 1001 (76,800 bytes; samples cross-checked against an
    # independent text dump).
    ("ctu-uhb-ctgdb", "1001.dat"): "4fd2604993def78137d02b4f338aa225f7df9bcf21960aa0994745377b03d409",
    # The rest come from copies of PhysioNet's own SHA256SUMS.txt of each pinned version that
    # users committed to public repositories beside the downloaded database; each copy's line
    # for RECORDS matches the RECORDS text rebuilt here, and where a header's text was found
    # (bidmc, bpssrat, drivedb, noneeg, slpdb, voiced) its hash matches the line too.
    ("ctu-uhb-ctgdb", "1001.hea"): "93cb95d6f47f9f334ba4997c41cb5eba6c2e343322eb98653d88fecab4377ced",
    ("bidmc", "bidmc01.hea"): "f43b0b139ad8f4d45097403b7179e1e6f8bda17dfd06dba504faf39a115aa27f",
    ("bidmc", "bidmc01.dat"): "b1666c7f2f117be6dc04cae2e7016b3315775edb9ad7c7ee53fa9c110937560b",
    ("bpssrat", "ssbn13hs01.hea"): "b46b502e16f4027b9b75d29bb50f2fad39ca1dc4f307b228e8309258516837cb",
    ("bpssrat", "ssbn13hs01.dat"): "607885b2d928cb8a4509cdbc98d40b0d092113c00968bd1f15da0dcb13c2910e",
    ("drivedb", "drive01.hea"): "45d856c792e679df21c4d57ac1df7c2f23d287e2636fd8d2b63acdddd6d5a1fd",
    ("drivedb", "drive01.dat"): "b7038d606bcbbd3388f4eb5337d8797717d4166b42d27c86403e782462be38e6",
    ("noneeg", "Subject10_AccTempEDA.hea"): "5e7dac5c13b59efa5de8b986de6a1f380cc249d60e4587a3be0bcc6a100162f0",
    ("noneeg", "Subject10_AccTempEDA.dat"): "4ffb176d15b966f23fc19283220aff327d043ec3b1f1aa39853f62d04a713fbd",
    ("slpdb", "slp01a.hea"): "05bfae85818ffd2fd9586daad74c17ec47cc94d47794c11fb9d3e451a9d7c0da",
    ("slpdb", "slp01a.dat"): "80f04f98de84c6e342ffda59b597c70d956501f1a827cf2fea04d112c8cd7257",
    ("sufhsdb", "f100.hea"): "7ecff07570dfe368bcd882cd8beb5e426ff1ce0480580d19304a0f5d9e7ea2c5",
    ("sufhsdb", "f100.wav"): "7a494cf0a9d1ab79528069257d407d03b955d1ff926a135c0e55c429e1a0af1a",
    ("voiced", "voice001.hea"): "55af2001152e0cdd32799f8ec49fcb0699a7a5a33f23e5fa2cd25f08d6b92ca6",
    ("voiced", "voice001.dat"): "8f3894c17d2a673f5570781eb2c77baaa976a3cd618f2911b27fd257e5452af7",
    # Not pinned (no published hash found offline): apnea-ecg a01, cebsdb b001, shhpsgdb 0000,
    # and the unconfirmed first records of prcp and wrist; those files are checked against
    # SHA256SUMS.txt, and a download that cannot fetch it fails.
}
"""SHA-256 of PhysioNet files known to sanets, keyed ``(database, relative file name)``."""
