"""Simplified Chinese numbers as CLDR writes them (1,977,011): Django's own zh_Hans formats do not group digits."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
