"""Sign-up: the generic sign-up link and the association link (`Associate?id=&auth=`)."""
