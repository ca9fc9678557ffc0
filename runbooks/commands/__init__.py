"""Click wrappers of the ops runbooks: parse options, build an OpsContext, call ``do_*``."""
