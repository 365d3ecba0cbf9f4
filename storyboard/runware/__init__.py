"""Runware REST client (``client``) and the wire-format helpers it uses (``protocol``)."""
