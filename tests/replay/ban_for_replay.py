"""The fake Base Adresse Nationale of the browser tests on a fixed port (3199), for the replay's server:
`RDV_BAN_URL=http://127.0.0.1:3199`. Adds two addresses the replay types (a street of Lens, Liévin)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes"))

from fakes import ban_server  # noqa: E402

ban_server.ADDRESSES += [
    {"label": "3 Rue de la Gare 62300 Lens", "postcode": "62300", "citycode": "62498", "city": "Lens",
     "id": "62498_0300_00003", "street": "Rue de la Gare"},
    {"label": "8 Avenue Jean Jaurès 62800 Liévin", "postcode": "62800", "citycode": "62510", "city": "Liévin",
     "id": "62510_0200_00008", "street": "Avenue Jean Jaurès"},
]

if __name__ == "__main__":
    fake = ban_server.FakeBan()
    fake.port = 3199
    fake.start()
    print(f"BAN factice sur {fake.url}", flush=True)
    while True:
        time.sleep(3600)
