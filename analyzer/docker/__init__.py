"""Reading Docker's own on-disk formats: locating roots, containers, layers, views."""
