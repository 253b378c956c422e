"""Accounts: the caller's own, those an administrator creates, tokens."""

from __future__ import annotations

from rest_framework import serializers as s

from cases.models import User

from .fields import Id
from .reference import OrganisationBriefSerializer


class MeSerializer(s.ModelSerializer):
    role = s.CharField(source="effective_role", read_only=True)
    role_label = s.SerializerMethodField()
    organisation = OrganisationBriefSerializer(read_only=True, allow_null=True)
    epci = s.SlugRelatedField(slug_field="siren", read_only=True, allow_null=True)
    funder = s.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    territory = s.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "role_label",
            "organisation",
            "epci",
            "funder",
            "territory",
            "college",
            "interest_group",
        ]

    def get_role_label(self, obj) -> str:
        return str(User.Role(obj.effective_role).label)


class UserSerializer(MeSerializer):
    class Meta(MeSerializer.Meta):
        pass


class UserInputSerializer(s.Serializer):
    username = s.CharField(max_length=150)
    password = s.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    role = s.ChoiceField(choices=User.Role.choices)
    email = s.EmailField(required=False, allow_blank=True)
    organisation = Id(required=False, allow_null=True)
    epci = s.CharField(max_length=9, required=False, allow_null=True, allow_blank=True)
    funder = s.CharField(
        max_length=20,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Code d'un dispositif (ou d'un financeur)",
    )
    college = s.ChoiceField(
        choices=User.College.choices, required=False, allow_null=True, allow_blank=True
    )
    interest_group = s.CharField(max_length=80, required=False, allow_null=True, allow_blank=True)
    territory = s.CharField(
        max_length=60,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Territoire d'un compte du PETR (son identifiant court) : pour un "
        "superutilisateur d'une installation à plusieurs territoires",
    )


class TokenInputSerializer(s.Serializer):
    username = s.CharField(max_length=150)
    password = s.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(s.Serializer):
    token = s.CharField()
