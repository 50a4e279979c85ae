"""Local rules: configured reactions that run in the gateway itself, with or without the
uplink, e.g. holding a lift's door while an e-bike is inside (`ebike_lift_lockout`).

A rule kind is a spec (its config keys, parsed at load: `ebike_spec.py`) plus a rule class
(its logic: `ebike.py`), registered in `config.KINDS`. Rules act through `base.Effects`;
how a command reaches a device is the action layer (`actions.py`).
"""

from gateway.rules.actions import ADAPTERS, Commander, DriverCommands, command_problems
from gateway.rules.base import Effects, Rule, RuleKind, RuleSpec
from gateway.rules.config import KINDS, parse_rules
from gateway.rules.engine import RuleEngine

__all__ = ["ADAPTERS", "KINDS", "Commander", "DriverCommands", "Effects", "Rule", "RuleEngine",
           "RuleKind", "RuleSpec", "command_problems", "parse_rules"]
