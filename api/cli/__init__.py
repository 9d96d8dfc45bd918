"""absctl: the command line of every party (see main.py)."""
