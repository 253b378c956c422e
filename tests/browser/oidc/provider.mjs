// A real OpenID Connect provider for the browser tests (node's `oidc-provider`), set up
// like ProConnect: authorisation code flow, PKCE (S256) required, client_secret_post,
// RS256-signed ID token and signed userinfo (application/jwt), ProConnect's scopes and
// claims (email, given_name, usual_name, siret), RP-initiated logout (end_session with
// id_token_hint). Its login page is the library's development form: any password, the
// login picks an account of GUICHET_OIDC_ACCOUNTS.
//
// Environment: GUICHET_OIDC_PORT (listened to on 127.0.0.1 only), GUICHET_OIDC_REDIRECT_URI,
// GUICHET_OIDC_POST_LOGOUT_URI, GUICHET_OIDC_CLIENT_ID, GUICHET_OIDC_CLIENT_SECRET,
// GUICHET_OIDC_ACCOUNTS (JSON: {login: {email, given_name, usual_name, siret}}).
// Prints « ready <issuer> » on standard output once it listens.
import { generateKeyPairSync } from "node:crypto";

import Provider from "oidc-provider";

const env = process.env;
const port = Number(env.GUICHET_OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(env.GUICHET_OIDC_ACCOUNTS || "{}");
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: "guichet-test", use: "sig", alg: "RS256" };

const page = (title, body) =>
  `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body><main><h1>${title}</h1>${body}</main></body></html>`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env.GUICHET_OIDC_CLIENT_ID,
      client_secret: env.GUICHET_OIDC_CLIENT_SECRET,
      redirect_uris: [env.GUICHET_OIDC_REDIRECT_URI],
      post_logout_redirect_uris: [env.GUICHET_OIDC_POST_LOGOUT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
      id_token_signed_response_alg: "RS256",
      userinfo_signed_response_alg: "RS256",
    },
  ],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  scopes: ["openid", "email", "given_name", "usual_name", "siret"],
  claims: {
    openid: ["sub"],
    email: ["email"],
    given_name: ["given_name"],
    usual_name: ["usual_name"],
    siret: ["siret"],
  },
  features: {
    devInteractions: { enabled: true },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // The library's own pages import a web font: these ones stay on 127.0.0.1.
      logoutSource: async (ctx, form) => {
        ctx.body = page(
          "Déconnexion",
          `${form}<button autofocus type="submit" form="op.logoutForm" value="yes" ` +
            `name="logout">Se déconnecter de ProConnect</button>`,
        );
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page("Déconnecté", "<p>Vous êtes déconnecté.</p>");
      },
    },
  },
  renderError: async (ctx, out) => {
    ctx.type = "html";
    ctx.body = page("Erreur", `<pre>${JSON.stringify(out)}</pre>`);
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...account };
      },
    };
  },
});

const server = provider.listen(port, "127.0.0.1", () => {
  process.stdout.write(`ready ${issuer}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
