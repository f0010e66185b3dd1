//! Connecting a person to the test provider, as the API tests of connections need it.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use leash::domain::provider::Provider;
use leash::upstream::oauth_provider::{DEFAULT_TIMEOUT, Providers};
use leash::usecase::Settings;

use super::fake_provider::FakeProvider;
use super::{Answer, RawAnswer, TestApp, TestSession, TestUser};

const HOST_ORIGIN: &str = "https://app.example";

pub async fn app_with(provider: &FakeProvider) -> TestApp {
    app_with_config(provider.config("acme")).await
}

/// An app whose one provider, `acme`, is configured as `config`.
pub async fn app_with_config(config: Provider) -> TestApp {
    TestApp::start_with(with_provider(config, Settings::default())).await
}

/// `settings` with one provider, `acme`, configured as `config`.
pub fn with_provider(config: Provider, settings: Settings) -> Settings {
    Settings {
        providers: Providers::new(
            &[config],
            "http://127.0.0.1:8080/v1/oauth/callback",
            DEFAULT_TIMEOUT,
        )
        .unwrap(),
        return_to_origins: vec![HOST_ORIGIN.to_owned()],
        ..settings
    }
}

/// How a request carries the person's session.
pub enum Carrying<'a> {
    Nothing,
    Bearer(&'a str),
    Cookie(&'a str),
}

pub fn get(path: &str, carrying: &Carrying<'_>, accept: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    match carrying {
        Carrying::Nothing => {}
        Carrying::Bearer(token) => {
            request = request.header("authorization", format!("Bearer {token}"))
        }
        Carrying::Cookie(token) => {
            request = request.header("cookie", format!("theme=dark; leash_session={token}"))
        }
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.body(Body::empty()).unwrap()
}

impl TestApp {
    pub async fn authorize(&self, query: &str, carrying: &Carrying<'_>) -> RawAnswer {
        self.send_raw(get(
            &format!("/v1/connections/acme/authorize{query}"),
            carrying,
            None,
        ))
        .await
    }

    /// Starts an authorization and has the provider consent: answers the callback's
    /// query string.
    pub async fn consented(
        &self,
        provider: &FakeProvider,
        query: &str,
        carrying: &Carrying<'_>,
    ) -> String {
        let started = self.authorize(query, carrying).await;
        assert_eq!(started.status, StatusCode::FOUND, "{}", started.body);
        provider.consent(started.header("location").unwrap()).await
    }

    pub async fn callback(
        &self,
        query: &str,
        carrying: &Carrying<'_>,
        accept: Option<&str>,
    ) -> RawAnswer {
        self.send_raw(get(
            &format!("/v1/oauth/callback?{query}"),
            carrying,
            accept,
        ))
        .await
    }

    pub async fn connections(&self, user: &TestUser) -> serde_json::Value {
        let answer = self
            .get(&format!("/v1/users/{}/connections", user.id))
            .await;
        answer.assert_status(StatusCode::OK)["data"].clone()
    }

    pub async fn person(&self, name: &str) -> (TestUser, TestSession) {
        let user = self.create_user(name).await;
        let session = self.sign_in(&user).await;
        (user, session)
    }
}

impl TestApp {
    /// The person connects `acme` (or connects it again) and the provider grants
    /// `upstream` scopes: answers how the callback ended.
    pub async fn connect_granting(
        &self,
        provider: &FakeProvider,
        session: &TestSession,
        upstream: &[&str],
    ) -> RawAnswer {
        provider.grant_only(&upstream.join(" "));
        let back = self
            .consented(provider, "", &Carrying::Bearer(&session.token))
            .await;
        self.callback(&back, &Carrying::Nothing, None).await
    }

    /// The person connects `acme` through their session: answers the connection's id.
    pub async fn connect(
        &self,
        provider: &FakeProvider,
        user: &TestUser,
        session: &TestSession,
    ) -> String {
        let back = self
            .consented(provider, "", &Carrying::Bearer(&session.token))
            .await;
        let finished = self.callback(&back, &Carrying::Nothing, None).await;
        assert_eq!(finished.status, StatusCode::OK, "{}", finished.body);
        self.connections(user).await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

impl TestApp {
    /// An agent asks for the credential of `provider` with its access token.
    pub async fn vend(&self, access_token: &str, provider: &str) -> Answer {
        self.send(
            axum::http::Method::POST,
            "/v1/credentials",
            Some(access_token),
            Some("application/json"),
            serde_json::json!({ "provider": provider })
                .to_string()
                .into(),
        )
        .await
    }
}
