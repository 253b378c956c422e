"""Shapes of the API v1 (api.md), one module per area. Output serializers render; input
serializers check types and sizes only: the business rules live in the services and
transition guards.

- ``fields``: ids, money, the transitions a caller may apply, the error body;
- ``reference``: EPCI, communes, schemes, organisations;
- ``users``: the caller's account, accounts, tokens;
- ``cases``: dossiers, their financing plan, deadlines and history;
- ``requests``: funding requests; ``payments``: payment claims;
- ``transitions``: the body of ``POST …/transitions/{name}/``;
- ``documents``: documents and opinions; ``committee``: sessions, votes, decisions.
"""
