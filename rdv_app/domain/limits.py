"""The longest text people may give, by kind of field: the one list of these numbers.

The services' boundary (rdv_app.services.boundary) refuses longer input with a French message naming the
field, and the schema's CHECK constraints (rdv_app.db.models) hold the same numbers for the columns that
store it, on SQLite as on PostgreSQL. Each limit is generous for honest use and small enough that no
stored value can swell a page, an SMS, an email or a webhook:

| kind           | max   | fields                                                                      |
|----------------|-------|-----------------------------------------------------------------------------|
| `NAME`         | 100   | a person's first, last or birth name                                        |
| `LABEL`        | 160   | the name of a thing (motif, lieu, organisation, town); titles of plages and absences |
| `EMAIL`        | 254   | an email address (the longest path SMTP carries, RFC 5321)                  |
| `PHONE`        | 30    | a phone number as typed, spaces and prefix included                         |
| `ADDRESS`      | 300   | a postal address, or its complement                                         |
| `NOTE`         | 2 000 | agents' free texts: an RDV's context, notes on an usager, opening hours     |
| `INSTRUCTIONS` | 5 000 | a motif's texts for usagers: conditions, instructions, cancellation warning |
| `URL`          | 2 000 | web addresses and return paths                                              |
| `CODE`         | 64    | values picked from a list, colours, time zones, postal codes, IP addresses  |
| `SEARCH`       | 200   | what is typed in a search box                                               |
| `SECRET`       | 4 096 | tokens, keys, signed cookies, what FranceConnect gives (its id_token, a JWT) |
| `PASSWORD`     | 256   | a password (hashing a longer one would only cost time)                      |
| `OAUTH_TOKEN`  | 16 384 | Microsoft's access and refresh tokens (Outlook sync), JWTs that carry claims |
"""

NAME = 100
LABEL = 160
EMAIL = 254
PHONE = 30
ADDRESS = 300
NOTE = 2_000
INSTRUCTIONS = 5_000
URL = 2_000
CODE = 64
SEARCH = 200
SECRET = 4_096
PASSWORD = 256
OAUTH_TOKEN = 16_384
