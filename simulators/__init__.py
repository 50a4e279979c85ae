"""Devices over real sockets, so that tests and demos need no hardware.

Simulators import none of drivers, gateway or ingest: they are the hardware.
"""
