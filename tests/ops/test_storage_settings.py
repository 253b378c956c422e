"""Media storage: local by default, S3-compatible with GUICHET_STORAGE=s3 — private
objects, no signed URL handed out. Configuration only: no network."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, storages
from django.test import override_settings

from guichet.settings import media_storage

S3_ENV = {
    "GUICHET_STORAGE": "s3",
    "AWS_STORAGE_BUCKET_NAME": "guichet-documents",
    "AWS_S3_ENDPOINT_URL": "https://s3.fr-par.scw.cloud",
    "AWS_S3_REGION_NAME": "fr-par",
    "AWS_ACCESS_KEY_ID": "AKIA-TEST",
    "AWS_SECRET_ACCESS_KEY": "not-a-secret",
}


def test_local_is_the_default():
    assert media_storage({}) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert media_storage({"GUICHET_STORAGE": "local"})["BACKEND"].endswith("FileSystemStorage")
    assert isinstance(storages["default"], FileSystemStorage)


def test_s3_builds_a_private_storage_without_signed_urls():
    conf = media_storage(S3_ENV)
    assert conf["BACKEND"] == "storages.backends.s3.S3Storage"
    opts = conf["OPTIONS"]
    assert opts["bucket_name"] == "guichet-documents"
    assert opts["endpoint_url"] == "https://s3.fr-par.scw.cloud"
    assert opts["region_name"] == "fr-par"
    assert opts["default_acl"] == "private"
    assert opts["querystring_auth"] is False
    assert opts["file_overwrite"] is False
    assert opts["location"] == "guichet"
    assert opts["access_key"] == "AKIA-TEST" and opts["secret_key"] == "not-a-secret"
    assert opts["object_parameters"] == {}


def test_s3_aliases_sse_and_credential_chain():
    conf = media_storage(
        {"GUICHET_STORAGE": "S3", "S3_BUCKET": "b", "S3_PREFIX": "petr-albi", "S3_SSE": "1"}
    )
    opts = conf["OPTIONS"]
    assert opts["bucket_name"] == "b" and opts["location"] == "petr-albi"
    assert opts["object_parameters"] == {"ServerSideEncryption": "AES256"}
    # no keys: boto3's own chain (instance role, ~/.aws), never an empty key
    assert "access_key" not in opts and "secret_key" not in opts
    assert "endpoint_url" not in opts


@pytest.mark.parametrize(
    "env", [{"GUICHET_STORAGE": "s3"}, {"GUICHET_STORAGE": "ftp", "S3_BUCKET": "b"}]
)
def test_bad_configuration_refuses_to_start(env):
    with pytest.raises(ImproperlyConfigured):
        media_storage(env)


def test_django_builds_the_s3_storage_offline(settings):
    from storages.backends.s3 import S3Storage

    with override_settings(STORAGES={**settings.STORAGES, "default": media_storage(S3_ENV)}):
        storage = storages["default"]
        assert isinstance(storage, S3Storage)
        assert storage.bucket_name == "guichet-documents"
        assert storage.default_acl == "private"
        assert storage.querystring_auth is False
        # the document path of a dossier is kept under the prefix, never public
        assert storage._normalize_name("dossiers/1/devis.pdf") == "guichet/dossiers/1/devis.pdf"
    assert isinstance(storages["default"], FileSystemStorage)
