"""Development and test tooling; a package only so `devtools.stripe_standin` imports from the repository root."""
