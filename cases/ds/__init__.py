"""Démarches Simplifiées interoperability (issue 15 point 2): import a démarche's dossiers
(``importer``, through ``mapping``), send state changes back (``pushback``); the HTTP side
is ``client``, the GraphQL documents are ``queries/*.graphql``, checked in the tests against
DS's published schema (``cases/data/ds/schema.graphql``)."""
