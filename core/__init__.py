"""The ground floor: helpers every app uses and that know no app above them (who may see what,
input limits, CSV, units, mail, Redis, validators, the API's base classes). Nothing here imports
an app of the portal; see docs/architecture/README.md for the layers."""
