"""Entry pages: home (by role) and the shared helpers of the web layer.

Web views are thin: they read through selectors, write through services and the engine's
transition service, and render templates. No business rule lives here.
"""

from django.shortcuts import redirect

from cases.models import User

R = User.Role

HOME_BY_ROLE = {
    R.PORTEUR: "web:my-cases",
    R.AGENT: "web:agent-inbox",
    R.DIRECTOR: "web:agent-inbox",
    R.ADMIN: "web:agent-inbox",
    R.EPCI_PARTNER: "web:agent-inbox",
    R.FUNDER_INSTRUCTOR: "web:funders",
    R.COMMITTEE_MEMBER: "web:committee",
}


def home(request):
    if not request.user.is_authenticated:
        return redirect("web:public")
    return redirect(HOME_BY_ROLE.get(request.user.effective_role, "web:public"))
