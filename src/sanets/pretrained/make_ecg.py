"""Make the pretrained ``ecg`` model again: ``python -m sanets.pretrained.make_ecg --data-dir ../shared/data``.

The recipe: ``sanets fit --for codec`` (:func:`sanets.experiments.codec_models.fit_codec`) on channel 0 (MLII,
or V5 where the record has no MLII) of every MIT-BIH Arrhythmia record found under ``<data-dir>/physionet/mitdb``,
at PRDN 5 %, seed 0; the model and a JSON file of its recipe (no local paths) are written into this package's folder (or --out).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from sanets._files import strict_json, write_atomically
from sanets.experiments.codec_models import fit_codec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="the data root holding physionet/mitdb")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("ecg.safetensors"))
    args = parser.parse_args()
    records = sorted((args.data_dir / "physionet" / "mitdb").glob("*.hea"))
    if not records:
        raise SystemExit(f"no MIT-BIH records under {args.data_dir / 'physionet' / 'mitdb'}")
    with tempfile.TemporaryDirectory() as folder:
        fit = fit_codec(records, Path(folder) / "ecg.safetensors", channels=[0], prdn=5.0, seed=0)
    fit.model.save(args.out)
    about = {"name": args.out.stem, "sampling_rate": fit.sampling_rate, "kernels": fit.kernels, "length": fit.length,
             "trained_on": [f"mitdb/{path.stem} channel 0" for path in records], "target_prdn": 5.0,
             "validation_bits_per_sample": fit.candidates, "recipe": "python -m sanets.pretrained.make_ecg --data-dir DATA"}
    write_atomically(args.out.with_suffix(".json"), lambda file: file.write(strict_json(about, indent=2).encode()))
    print(json.dumps(about, indent=2))


if __name__ == "__main__":
    main()
