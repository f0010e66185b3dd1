//! RFC 8414: OAuth tooling finds Leash's endpoints from its metadata.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use leash::usecase::Settings;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn the_metadata_names_the_issuer_its_endpoints_and_what_they_accept() {
    let app = TestApp::start_with(Settings {
        public_url: "https://leash.example.com".to_owned(),
        ..Settings::default()
    })
    .await;
    let answer = app
        .send(
            Method::GET,
            "/.well-known/oauth-authorization-server",
            None,
            None,
            Body::empty(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "no key needed");
    assert_eq!(
        answer.body,
        json!({
            "issuer": "https://leash.example.com",
            "token_endpoint": "https://leash.example.com/oauth2/token",
            "introspection_endpoint": "https://leash.example.com/oauth2/introspect",
            "revocation_endpoint": "https://leash.example.com/oauth2/revoke",
            "grant_types_supported": [
                "urn:ietf:params:oauth:grant-type:token-exchange",
                "refresh_token"
            ],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })
    );
}
