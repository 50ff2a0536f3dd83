"""Certificates: issued on a pass, verifiable by anyone from a link or a code and surname."""
