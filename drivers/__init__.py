"""Protocol drivers, one subpackage per protocol; device profiles are data (YAML) beside them."""
