"""The broker's side of trust: which account may publish and read which topics, and the
files mosquitto reads to enforce it (password file and ACL).

`accounts` says who may say what, `passwd` writes mosquitto's own password hashes, and
`files` derives the central broker's accounts from the inventories and keeps each
gateway's password for the installer (`scg broker config`). The private brokers of the
demo and the tests (`scg.localsvc.mosquitto`) are built from the same accounts.
"""
