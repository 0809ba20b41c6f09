"""Documents: the electronic contract and the credit-inquiry authorisation as PDF, the bank's
PAdES signature on them and its verification. Pure: reportlab, pyHanko and pypdf; no AWS."""
