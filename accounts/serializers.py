from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User


class PersonSerializer(serializers.Serializer):
    """A person as others see them: full name (null when not given) and role, never the login name."""

    name = serializers.CharField(allow_null=True, read_only=True)
    role = serializers.ChoiceField(choices=User.Role.choices, read_only=True)

    def to_representation(self, instance: User) -> dict[str, Any]:
        return {"name": instance.get_full_name() or None, "role": instance.role}
