"""PynamoDB models, bound lazily to the tables declared in ``resources.py``.

Table names and the region are read from the environment when a model is first
used in a call, not at import, and the connection is rebuilt whenever they
change (a new moto server in tests, another stage).
"""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib import resources, settings


class _FromEnvironment:
    """A ``Meta`` attribute whose value is read from the environment at each access."""

    def __init__(self, read: Any):
        self._read = read

    def __get__(self, obj: Any, owner: Any) -> str:
        return self._read()


def table_meta(table: resources.Table) -> type:
    class Meta:
        table_name = _FromEnvironment(lambda: settings.table_name(table))
        region = _FromEnvironment(settings.region)

    return Meta


class LazyModel(Model):
    """A model that reconnects when its table name or endpoint changes."""

    @classmethod
    def _get_connection(cls):  # type: ignore[override]
        key = (cls.Meta.table_name, cls.Meta.region, settings.aws_endpoint())
        if getattr(cls, "_bound_to", None) != key:
            cls._connection = None
            cls._bound_to = key
        return super()._get_connection()


class ConfigItem(LazyModel):
    """One piece of configuration: ``pk`` names the kind and code, ``sk`` the facet.

    Partners: ``PARTNER#<id>`` / ``PROFILE``; products: ``PRODUCT#<code>`` /
    ``CURRENT``; branches: ``BRANCH#<code>`` / ``PROFILE``; the business date: ``PLATFORM`` / ``BUSINESS_DATE``.
    """

    Meta = table_meta(resources.CONFIG_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    document = JSONAttribute(null=True)
    value = UnicodeAttribute(null=True)
    version = VersionAttribute()
