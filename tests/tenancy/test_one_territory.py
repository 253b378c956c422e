"""The one-territory installation of today: staff accounts take its territory. In a module
of its own: the other modules of this folder build a second territory for all their tests
(the ``world`` of conftest.py, once per module)."""

import pytest

from cases.models import User
from schemes.models import Territory
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_one_territory_installation_fills_the_staff_territory(db):
    default = Territory.objects.get(slug="albigeois-bastides")
    assert Territory.objects.count() == 1
    agent = User.objects.create_user(username="agent.seul", role=User.Role.AGENT)
    assert agent.territory_id == default.pk
    porteur = f.porteur()
    assert porteur.territory_id is None  # porteurs are scoped by their organisation
    assert porteur.organisation.territory_id == default.pk
    superuser = User.objects.create_superuser(username="root", password="x" * 12)
    assert superuser.territory_id is None
