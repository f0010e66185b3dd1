//! panva's `oidc-provider` (npm, pinned in `tests/oidc-provider/package-lock.json`), run
//! by Node as a real upstream provider nobody here wrote: over HTTPS with a certificate
//! from a CA made at run time. Its development login and consent pages are posted as a
//! browser would post them.
//!
//! Without Node or the installed packages (`npm ci` in `tests/oidc-provider`) the test
//! that needs it says so and passes, unless `LEASH_TEST_REQUIRE_OIDC_PROVIDER=1` (as
//! `.ci/run` sets), which makes it fail instead.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use leash::domain::provider::{Pkce, Provider, ProviderId, TokenAuthMethod};
use leash::domain::secret::Secret;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::test_ca::TestCa;

pub const CLIENT_ID: &str = "leash";
pub const CLIENT_SECRET: &str = "leash-e2e-client-secret";
/// Leash's callback as the test app's public URL makes it.
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/v1/oauth/callback";

pub struct OidcProvider {
    pub issuer: String,
    pub ca_pem: String,
    /// Its discovery document.
    discovery: serde_json::Value,
    http: reqwest::Client,
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl OidcProvider {
    /// Starts it, or answers `None` (after saying why) when it cannot run here and the
    /// environment does not require it.
    pub async fn start() -> Option<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider");
        let installed = root
            .join("node_modules/oidc-provider/package.json")
            .exists();
        let node = std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_ok();
        if !(installed && node) {
            let why = format!(
                "oidc-provider cannot run here (node found: {node}; packages installed: \
                 {installed}): run `npm ci` in {}",
                root.display()
            );
            assert!(
                std::env::var("LEASH_TEST_REQUIRE_OIDC_PROVIDER").as_deref() != Ok("1"),
                "{why}"
            );
            eprintln!("skipped: {why}");
            return None;
        }
        let ca = TestCa::new();
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, &ca.server_cert_pem).unwrap();
        std::fs::write(&key, &ca.server_key_pem).unwrap();
        let mut child = tokio::process::Command::new("node")
            .arg(root.join("server.mjs"))
            .current_dir(&root)
            .env("CERT_FILE", &cert)
            .env("KEY_FILE", &key)
            .env("REDIRECT_URI", REDIRECT_URI)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let issuer = loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("oidc-provider exited");
            if let Some(issuer) = line.strip_prefix("issuer ") {
                break issuer.to_owned();
            }
        };
        // Keep reading: a closed pipe would kill it at its next line.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem.as_bytes()).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let discovery = http
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Some(Self {
            issuer,
            discovery,
            ca_pem: ca.ca_pem,
            http,
            _child: child,
            _dir: dir,
        })
    }

    /// Leash's configuration of it under `id`, from its discovery document.
    pub fn config(&self, id: &str) -> Provider {
        let url = |field: &str| url::Url::parse(self.endpoint(field)).unwrap();
        Provider {
            id: ProviderId::parse(id).unwrap(),
            authorization_url: url("authorization_endpoint"),
            token_url: url("token_endpoint"),
            revocation_url: Some(url("revocation_endpoint")),
            issuer: Some(self.issuer.clone()),
            client_id: CLIENT_ID.to_owned(),
            client_secret: Secret::new(CLIENT_SECRET.to_owned()),
            scopes: vec!["openid".to_owned(), "api".to_owned()],
            scope_separator: " ".to_owned(),
            pkce: Pkce::S256,
            token_auth_method: TokenAuthMethod::ClientSecretBasic,
            allow_private_network: true,
            extra_roots_pem: Some(self.ca_pem.clone().into_bytes()),
        }
    }

    /// Follows an authorization URL Leash made as a person's browser would, signing in
    /// as `login` and consenting: answers the query string sent back to Leash.
    pub async fn sign_in_and_consent(&self, authorization_url: &str, login: &str) -> String {
        let form_action = regex::Regex::new(r#"action="([^"]+)""#).unwrap();
        let prompt = regex::Regex::new(r#"name="prompt" value="([a-z]+)""#).unwrap();
        let mut jar: BTreeMap<String, String> = BTreeMap::new();
        let mut next = authorization_url.to_owned();
        let mut form: Option<Vec<(String, String)>> = None;
        for _ in 0..20 {
            if let Some(query) = next.strip_prefix(&format!("{REDIRECT_URI}?")) {
                return query.to_owned();
            }
            let url = url::Url::parse(&self.issuer).unwrap().join(&next).unwrap();
            let cookies: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let request = match form.take() {
                Some(fields) => self.http.post(url).form(&fields),
                None => self.http.get(url),
            };
            let answer = request
                .header(COOKIE, cookies.join("; "))
                .send()
                .await
                .unwrap();
            for set in answer.headers().get_all(SET_COOKIE) {
                let pair = set.to_str().unwrap().split(';').next().unwrap();
                if let Some((name, value)) = pair.split_once('=') {
                    jar.insert(name.to_owned(), value.to_owned());
                }
            }
            if let Some(location) = answer.headers().get(LOCATION) {
                next = location.to_str().unwrap().to_owned();
                continue;
            }
            let status = answer.status();
            let page = answer.text().await.unwrap();
            let (Some(action), Some(prompt)) =
                (form_action.captures(&page), prompt.captures(&page))
            else {
                panic!("oidc-provider answered {status} without a form: {page}");
            };
            let mut fields = vec![("prompt".to_owned(), prompt[1].to_owned())];
            if &prompt[1] == "login" {
                fields.push(("login".to_owned(), login.to_owned()));
                fields.push(("password".to_owned(), "any".to_owned()));
            }
            next = action[1].to_owned();
            form = Some(fields);
        }
        panic!("the authorization did not come back to Leash");
    }

    fn endpoint(&self, field: &str) -> &str {
        self.discovery[field].as_str().unwrap()
    }

    /// Whether it still honours `token` (RFC 7662, as Leash's client).
    pub async fn is_active(&self, token: &str) -> bool {
        let answer: serde_json::Value = self
            .http
            .post(self.endpoint("introspection_endpoint"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["active"].as_bool().unwrap()
    }
}
