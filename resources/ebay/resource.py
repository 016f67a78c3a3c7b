"""eBay as a Dagster resource, and the environment variables that configure it.

| Variable | Default | Secret | What |
|---|---|---|---|
| ``SOLEFLIPPER_EBAY_CLIENT_ID`` | — (required) | no* | application key set: App ID (client id) |
| ``SOLEFLIPPER_EBAY_CLIENT_SECRET`` | — (required) | **yes** | Cert ID (client secret) |
| ``SOLEFLIPPER_EBAY_REFRESH_TOKEN`` | — (required unless stored) | **yes** | the seller's user refresh token (wins over a stored one) |
| ``SOLEFLIPPER_EBAY_RUNAME`` | — (``ebay login`` only) | no | the application's RuName, sent as ``redirect_uri`` |
| ``SOLEFLIPPER_EBAY_CONSENT_URL`` | ``https://auth.ebay.com/oauth2/authorize`` | no | eBay's consent page (``ebay login``) |
| ``SOLEFLIPPER_EBAY_SIGNING_KEY`` | — (EU/UK sellers) | **yes** | Ed25519 private key from the Key Management API (PEM or base64) |
| ``SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE`` | — (with the key) | no | its JWE, sent as ``x-ebay-signature-key`` |
| ``SOLEFLIPPER_EBAY_API_URL`` | ``https://api.ebay.com`` | no | Fulfillment host |
| ``SOLEFLIPPER_EBAY_FINANCES_URL`` | ``https://apiz.ebay.com`` | no | Finances host |
| ``SOLEFLIPPER_EBAY_AUTH_URL`` | ``https://api.ebay.com`` | no | OAuth host (``/identity/v1/oauth2/token``) |
| ``SOLEFLIPPER_EBAY_MARKETPLACE_ID`` | ``EBAY_DE`` | no | sent as ``X-EBAY-C-MARKETPLACE-ID`` |
| ``SOLEFLIPPER_FERNET_KEY`` | — (required) | **yes** | encrypts the stored tokens |
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from resources.ebay.client import (
    DEFAULT_API_URL,
    DEFAULT_AUTH_URL,
    DEFAULT_CONSENT_URL,
    DEFAULT_FINANCES_URL,
    DEFAULT_MARKETPLACE_ID,
    EbayClient,
)
from resources.token_store import FERNET_KEY_ENV, TokenStore, fernet_key_from_env

ENV_CLIENT_ID = "SOLEFLIPPER_EBAY_CLIENT_ID"
ENV_CLIENT_SECRET = "SOLEFLIPPER_EBAY_CLIENT_SECRET"
ENV_REFRESH_TOKEN = "SOLEFLIPPER_EBAY_REFRESH_TOKEN"
ENV_API_URL = "SOLEFLIPPER_EBAY_API_URL"
ENV_FINANCES_URL = "SOLEFLIPPER_EBAY_FINANCES_URL"
ENV_AUTH_URL = "SOLEFLIPPER_EBAY_AUTH_URL"
ENV_MARKETPLACE_ID = "SOLEFLIPPER_EBAY_MARKETPLACE_ID"
ENV_RUNAME = "SOLEFLIPPER_EBAY_RUNAME"
ENV_CONSENT_URL = "SOLEFLIPPER_EBAY_CONSENT_URL"
ENV_SIGNING_KEY = "SOLEFLIPPER_EBAY_SIGNING_KEY"
ENV_SIGNATURE_KEY_JWE = "SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE"


def ebay_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether eBay is configured (a client id: the user's, or the demo simulator's)."""
    return bool(((os.environ if environ is None else environ).get(ENV_CLIENT_ID) or "").strip())


def _value(field: str) -> str:
    """A field's value; an unresolved EnvVar (resource used outside Dagster) is read from the environment."""
    return (field.get_value("") or "") if isinstance(field, dg.EnvVar) else field


class EbayResource(dg.ConfigurableResource):
    """eBay Sell Fulfillment + Finances for assets: ``with resource.get_client() as ebay: ...``."""

    client_id: str
    client_secret: str
    refresh_token: str = ""
    api_url: str = DEFAULT_API_URL
    finances_url: str = DEFAULT_FINANCES_URL
    auth_url: str = DEFAULT_AUTH_URL
    marketplace_id: str = DEFAULT_MARKETPLACE_ID
    signing_key: str = ""
    signature_key_jwe: str = ""
    database_url: str
    fernet_key: str

    def get_client(self) -> EbayClient:
        return EbayClient(
            client_id=_value(self.client_id),
            client_secret=_value(self.client_secret),
            refresh_token=_value(self.refresh_token),
            api_url=self.api_url,
            finances_url=self.finances_url,
            auth_url=self.auth_url,
            marketplace_id=self.marketplace_id,
            signing_key=_value(self.signing_key),
            signature_key_jwe=_value(self.signature_key_jwe),
            token_store=TokenStore(_value(self.database_url), _value(self.fernet_key) or None),
        )

    @classmethod
    def from_env(cls, database_url: str, environ: Mapping[str, str] | None = None) -> EbayResource:
        """Secrets as EnvVar (resolved at run time, never shown in the UI); hosts read now."""
        env = os.environ if environ is None else environ

        def get(name: str, default: str) -> str:
            return (env.get(name) or "").strip() or default

        def optional(name: str) -> str:
            # Dagster refuses an EnvVar whose variable is unset; an optional secret that is not set is "".
            return dg.EnvVar(name) if (env.get(name) or "").strip() else ""

        return cls(
            client_id=dg.EnvVar(ENV_CLIENT_ID),
            client_secret=dg.EnvVar(ENV_CLIENT_SECRET),
            refresh_token=optional(ENV_REFRESH_TOKEN),
            api_url=get(ENV_API_URL, DEFAULT_API_URL),
            finances_url=get(ENV_FINANCES_URL, DEFAULT_FINANCES_URL),
            auth_url=get(ENV_AUTH_URL, DEFAULT_AUTH_URL),
            marketplace_id=get(ENV_MARKETPLACE_ID, DEFAULT_MARKETPLACE_ID),
            signing_key=optional(ENV_SIGNING_KEY),
            signature_key_jwe=optional(ENV_SIGNATURE_KEY_JWE),
            database_url=database_url,
            fernet_key=dg.EnvVar(FERNET_KEY_ENV),
        )


def client_from_env(database_url: str, environ: Mapping[str, str] | None = None, **options: object) -> EbayClient:
    """An :class:`EbayClient` outside Dagster (the ``soleflipper ebay`` commands), RuName included."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str = "") -> str:
        return (env.get(name) or "").strip() or default

    return EbayClient(
        client_id=get(ENV_CLIENT_ID), client_secret=get(ENV_CLIENT_SECRET), refresh_token=get(ENV_REFRESH_TOKEN),
        api_url=get(ENV_API_URL, DEFAULT_API_URL), finances_url=get(ENV_FINANCES_URL, DEFAULT_FINANCES_URL),
        auth_url=get(ENV_AUTH_URL, DEFAULT_AUTH_URL), marketplace_id=get(ENV_MARKETPLACE_ID, DEFAULT_MARKETPLACE_ID),
        redirect_uri=get(ENV_RUNAME), signing_key=get(ENV_SIGNING_KEY), signature_key_jwe=get(ENV_SIGNATURE_KEY_JWE),
        token_store=TokenStore(database_url, fernet_key_from_env(env) or None), **options,
    )


def consent_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return (env.get(ENV_CONSENT_URL) or "").strip() or DEFAULT_CONSENT_URL
