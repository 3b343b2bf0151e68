"""Storage drivers: each turns a container into its layer stack."""
