"""The Cryptolens-compatible Web API under `/api/`: token-authenticated, JSON answers, signed license keys."""
