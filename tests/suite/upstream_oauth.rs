//! Leash's client of upstream OAuth providers, against a provider over TLS: the
//! authorization URL, the code exchange with PKCE, refresh with rotation, revocation, and
//! how every failure is sorted.

use leash::domain::secret::Secret;
use leash::upstream::oauth_provider::{
    DEFAULT_TIMEOUT, Providers, Revoked, UpstreamError, UpstreamTokenKind,
};

use crate::support::fake_provider::{FakeProvider, TokenMode};

const REDIRECT: &str = "https://leash.example/v1/oauth/callback";

fn query_value(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn a_code_becomes_tokens_which_refresh_rotates_and_revocation_ends() {
    let provider = FakeProvider::start().await;
    let providers = Providers::new(&[provider.config("acme")], REDIRECT, DEFAULT_TIMEOUT).unwrap();
    let client = providers.find("acme").unwrap();
    let state = Secret::new("state-123".to_owned());
    let start = client.authorize(&state, &["repo".to_owned(), "read:user".to_owned()]);
    let query = start.url.query().unwrap();
    assert_eq!(query_value(query, "state").as_deref(), Some("state-123"));
    assert_eq!(
        query_value(query, "scope").as_deref(),
        Some("repo read:user")
    );
    assert_eq!(
        query_value(query, "redirect_uri").as_deref(),
        Some(REDIRECT)
    );
    assert_eq!(
        query_value(query, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let verifier = start.pkce_verifier.unwrap();

    let back = provider.consent(start.url.as_str()).await;
    let code = query_value(&back, "code").unwrap();
    // The wrong verifier is refused as a dead grant.
    let wrong = Secret::new("x".repeat(43));
    assert!(matches!(
        client.exchange_code(&code, Some(&wrong)).await,
        Err(UpstreamError::InvalidGrant(_))
    ));
    let back = provider.consent(start.url.as_str()).await;
    let code = query_value(&back, "code").unwrap();
    let tokens = client.exchange_code(&code, Some(&verifier)).await.unwrap();
    assert_eq!(
        tokens.scopes.as_deref(),
        Some(&["repo".to_owned(), "read:user".to_owned()][..])
    );
    assert!(provider.is_active(tokens.access_token.expose()));
    let refresh = tokens.refresh_token.unwrap();

    let refreshed = client.refresh(&refresh).await.unwrap();
    assert_ne!(refreshed.access_token, tokens.access_token);
    let rotated = refreshed.refresh_token.unwrap();
    assert!(matches!(
        client.refresh(&refresh).await,
        Err(UpstreamError::InvalidGrant(_))
    ));

    assert_eq!(
        client.revoke(&rotated, UpstreamTokenKind::Refresh).await,
        Ok(Revoked::Yes)
    );
    assert!(!provider.is_active(rotated.expose()));
    assert_eq!(
        provider.revocations().last().unwrap().1,
        "refresh_token",
        "the hint names the token's kind"
    );
}

#[tokio::test]
async fn a_provider_down_or_answering_garbage_is_unavailable_not_a_dead_grant() {
    let provider = FakeProvider::start().await;
    let providers = Providers::new(&[provider.config("acme")], REDIRECT, DEFAULT_TIMEOUT).unwrap();
    let client = providers.find("acme").unwrap();
    let refresh = Secret::new("anything".to_owned());
    for mode in [TokenMode::Down, TokenMode::Garbage] {
        provider.token_mode(mode);
        assert!(
            matches!(
                client.refresh(&refresh).await,
                Err(UpstreamError::Unavailable(_))
            ),
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn a_provider_is_reached_only_through_its_ca_and_on_a_private_address_only_if_allowed() {
    let provider = FakeProvider::start().await;
    let refresh = Secret::new("anything".to_owned());
    let mut untrusted = provider.config("acme");
    untrusted.extra_roots_pem = None;
    let mut public_only = provider.config("acme");
    public_only.allow_private_network = false;
    for config in [untrusted, public_only] {
        let providers = Providers::new(&[config], REDIRECT, DEFAULT_TIMEOUT).unwrap();
        let answer = providers.find("acme").unwrap().refresh(&refresh).await;
        assert!(
            matches!(answer, Err(UpstreamError::Unavailable(_))),
            "{answer:?}"
        );
    }
    assert_eq!(provider.refreshes(), 0);
}
