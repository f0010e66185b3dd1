//! The self-service page through the router: a login link signs the browser in; every
//! section shows the person's own things; each destructive button shows what it would
//! end before it ends it; forms need the session's form token; other people's ids are
//! not found; errors are HTML pages; every page forbids framing and inline code.

use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::json;

use crate::support::account_page::{Browser, MAC_FIREFOX, hidden};
use crate::support::agents::AgentTokens;
use crate::support::connections::app_with;
use crate::support::fake_provider::FakeProvider;
use crate::support::{RawAnswer, TestApp, TestSession, TestUser};

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

struct Scene {
    app: TestApp,
    provider: FakeProvider,
    alice: TestUser,
    laptop: TestSession,
    phone: TestSession,
    connection: String,
    reviewer: AgentTokens,
    runner: AgentTokens,
    release: AgentTokens,
    planner_grant: String,
}

/// Alice on a laptop and a phone; acme connected; Code Reviewer acting through acme
/// from the laptop with its sub-agent Test Runner, Release Bot from the phone; Planner
/// allowed without a session.
async fn scene() -> Scene {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let alice = app.create_user("alice").await;
    let laptop = app.sign_in_from(&alice, "203.0.113.7", MAC_FIREFOX).await;
    let phone = app.sign_in_from(&alice, "198.51.100.4", IPHONE).await;
    let connection = app.connect(&provider, &alice, &laptop).await;
    let reviewer_agent = app
        .register_agent("Code Reviewer", &["acme:repo", "read"])
        .await;
    let runner_agent = app.register_agent("Test Runner", &["acme:repo"]).await;
    let release_agent = app.register_agent("Release Bot", &["acme:repo"]).await;
    let planner = app
        .register_agent("Planner", &["calendar.read", "mail.send"])
        .await;
    for agent in [&reviewer_agent, &runner_agent, &release_agent] {
        app.consent(&alice, agent, &["acme:repo"]).await;
    }
    let planner_grant = app
        .consent(&alice, &planner, &["calendar.read", "mail.send"])
        .await;
    let reviewer = app
        .delegate(&reviewer_agent, &laptop, Some("acme:repo"))
        .await;
    let runner = app
        .delegate_from(&runner_agent, &reviewer.access, None)
        .await;
    let release = app.delegate(&release_agent, &phone, None).await;
    Scene {
        app,
        provider,
        alice,
        laptop,
        phone,
        connection,
        reviewer,
        runner,
        release,
        planner_grant,
    }
}

fn assert_html(answer: &RawAnswer, status: StatusCode) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        answer.headers
    );
}

fn assert_page_headers(answer: &RawAnswer) {
    let csp = answer.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(answer.header("x-frame-options"), Some("DENY"));
    assert_eq!(answer.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn every_section_shows_the_persons_own_things() {
    let s = scene().await;
    let browser = s.app.browser(&s.alice, &s.laptop).await;
    let page = s.app.page(&browser, "/account").await;
    assert_html(&page, StatusCode::OK);
    assert_page_headers(&page);
    let html = &page.body;
    for expected in [
        // Devices, this one marked.
        "Firefox on macOS",
        "This device",
        "Mobile Safari on iOS 17 (iPhone)",
        "203.0.113.7",
        "Sign out everywhere else",
        // Agents, the sub-agent under its parent, with the integration it reaches.
        "Code Reviewer",
        "Sub-agent of Code Reviewer: </span>Test Runner",
        "Release Bot",
        "<dd>acme</dd>",
        // Grants with their scopes as checkboxes.
        "Scopes Planner may use",
        "value=\"mail.send\" checked",
        // The connection.
        "acme <span class=\"tag\">connected</span>",
        // Activity in words.
        "You connected acme",
        "You opened this page on Firefox on macOS",
    ] {
        assert!(html.contains(expected), "{expected:?} is not on the page");
    }
    let stylesheet = s.app.follow("/account/account.css", None).await;
    assert_eq!(stylesheet.status, StatusCode::OK);
    assert!(
        stylesheet
            .header("content-type")
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn a_login_link_works_once_for_two_minutes_and_sets_a_strict_cookie() {
    let s = scene().await;
    let link = s.app.login_link(&s.alice, &s.laptop).await;
    assert!(link.starts_with("http://127.0.0.1:8080/account/login?token=leash_ll_"));
    let first = s.app.follow(&link, None).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(first.header("location"), Some("/account"));
    let cookie = first.header("set-cookie").unwrap();
    for attribute in [
        "leash_session=leash_usc_",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let again = s.app.follow(&link, None).await;
    assert_html(&again, StatusCode::GONE);

    let late = s.app.login_link(&s.alice, &s.laptop).await;
    s.app.advance(TimeDelta::minutes(3));
    assert_html(&s.app.follow(&late, None).await, StatusCode::GONE);
    assert_html(
        &s.app
            .follow("/account/login?token=leash_ll_forged", None)
            .await,
        StatusCode::GONE,
    );

    // Only a path of the page may be opened, and only for the person's own session.
    let path = format!("/v1/users/{}/login-links", s.alice.id);
    s.app
        .post(
            &path,
            json!({ "user_session_id": s.laptop.id, "return_to": "https://evil.example/" }),
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_return_to");
    let bob = s.app.create_user("bob").await;
    s.app
        .post(
            &format!("/v1/users/{}/login-links", bob.id),
            json!({ "user_session_id": s.laptop.id }),
        )
        .await
        .assert_problem(StatusCode::NOT_FOUND, "user_session_not_found");
    let link = s
        .app
        .post(
            &path,
            json!({ "user_session_id": s.laptop.id, "return_to": "/account#connections" }),
        )
        .await
        .assert_status(StatusCode::CREATED)["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.app.follow(&link, None).await.header("location"),
        Some("/account#connections")
    );
}

#[tokio::test]
async fn over_https_the_cookie_is_host_only_and_secure() {
    let app = TestApp::start_with(leash::usecase::Settings {
        public_url: "https://leash.example.com".to_owned(),
        ..leash::usecase::Settings::default()
    })
    .await;
    let alice = app.create_user("alice").await;
    let laptop = app.sign_in(&alice).await;
    let link = app.login_link(&alice, &laptop).await;
    let path = link.strip_prefix("https://leash.example.com").unwrap();
    let answer = app.follow(path, None).await;
    let cookie = answer.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("__Host-leash_session=leash_usc_"),
        "{cookie}"
    );
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[tokio::test]
async fn without_a_live_session_the_page_is_refused_as_html() {
    let s = scene().await;
    let nobody = s.app.follow("/account", None).await;
    assert_html(&nobody, StatusCode::UNAUTHORIZED);
    assert_page_headers(&nobody);
    let wrong_method = s
        .app
        .send_raw(
            axum::http::Request::delete("/account")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_html(&wrong_method, StatusCode::METHOD_NOT_ALLOWED);
    assert_page_headers(&wrong_method);
    let forged = s.app.follow("/account", Some("leash_usc_forged")).await;
    assert_html(&forged, StatusCode::UNAUTHORIZED);
    // A revoked session signs the page out...
    let browser = s.app.browser(&s.alice, &s.phone).await;
    assert_html(&s.app.page(&browser, "/account").await, StatusCode::OK);
    s.app
        .post(
            &format!("/v1/user-sessions/{}/revoke", s.phone.id),
            json!({}),
        )
        .await
        .assert_status(StatusCode::OK);
    assert_html(
        &s.app.page(&browser, "/account").await,
        StatusCode::UNAUTHORIZED,
    );
    // ...and so does an expired one.
    let laptop = s.app.browser(&s.alice, &s.laptop).await;
    assert_html(&s.app.page(&laptop, "/account").await, StatusCode::OK);
    s.app.advance(TimeDelta::days(8));
    assert_html(
        &s.app.page(&laptop, "/account").await,
        StatusCode::UNAUTHORIZED,
    );
    // A link for an ended session cannot be made.
    s.app
        .post(
            &format!("/v1/users/{}/login-links", s.alice.id),
            json!({ "user_session_id": s.phone.id }),
        )
        .await
        .assert_problem(StatusCode::CONFLICT, "user_session_inactive");
}

#[tokio::test]
async fn another_persons_things_are_not_found() {
    let s = scene().await;
    let bob = s.app.create_user("bob").await;
    let bobs = s.app.sign_in(&bob).await;
    let browser = s.app.browser(&bob, &bobs).await;
    let reviewer_session = s.app.introspect(&s.reviewer.access).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (act, id) in [
        ("sign_out", s.laptop.id.as_str()),
        ("revoke_agent_session", reviewer_session.as_str()),
        ("revoke_grant", s.planner_grant.as_str()),
        ("disconnect", s.connection.as_str()),
        ("disconnect", "con_not-an-id"),
    ] {
        let confirm = s
            .app
            .page(&browser, &format!("/account/confirm?act={act}&id={id}"))
            .await;
        assert_html(&confirm, StatusCode::NOT_FOUND);
        let token = bob_token(&s.app, &browser).await;
        let done = s
            .app
            .submit(
                &browser,
                "/account/act",
                &[("act", act), ("id", id), ("form_token", &token)],
            )
            .await;
        assert_html(&done, StatusCode::NOT_FOUND);
    }
    assert!(s.app.is_active(&s.reviewer.access).await);
    assert!(s.app.is_active(&s.laptop.token).await);
}

/// The form token of the browser's own page (from the confirmation of signing out
/// everywhere else, which is always theirs).
async fn bob_token(app: &TestApp, browser: &Browser) -> String {
    let page = app
        .page(browser, "/account/confirm?act=sign_out_others")
        .await;
    hidden(&page.body, "form_token").unwrap()
}

#[tokio::test]
async fn disconnecting_shows_its_blast_radius_first_then_ends_exactly_that() {
    let s = scene().await;
    let browser = s.app.browser(&s.alice, &s.laptop).await;
    let confirm = s
        .app
        .page(
            &browser,
            &format!("/account/confirm?act=disconnect&id={}", s.connection),
        )
        .await;
    assert_html(&confirm, StatusCode::OK);
    assert_page_headers(&confirm);
    assert!(
        confirm.body.contains("Disconnect acme?"),
        "{}",
        confirm.body
    );
    assert!(
        confirm.body.contains(
            "Disconnecting acme ends 3 agent sessions: Code Reviewer, its sub-agent Test Runner, and Release Bot."
        ),
        "{}",
        confirm.body
    );
    // Looking changed nothing.
    for tokens in [&s.reviewer, &s.runner, &s.release] {
        assert!(s.app.is_active(&tokens.access).await);
    }
    let token = hidden(&confirm.body, "form_token").unwrap();
    let done = s
        .app
        .submit(
            &browser,
            "/account/act",
            &[
                ("act", "disconnect"),
                ("id", &s.connection),
                ("form_token", &token),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let location = done.header("location").unwrap().to_owned();
    assert!(location.starts_with("/account?receipt=rev_"), "{location}");
    for tokens in [&s.reviewer, &s.runner, &s.release] {
        assert!(!s.app.is_active(&tokens.access).await);
    }
    let after = s.app.page(&browser, &location).await;
    assert!(
        after.body.contains("Done: 3 agent sessions ended."),
        "{}",
        after.body
    );
    assert!(after.body.contains("You disconnected acme"));
    let audit = s
        .app
        .get(&format!(
            "/v1/audit?action=connection.disconnected&actor=user:{}",
            s.alice.id
        ))
        .await;
    assert_eq!(
        audit.assert_status(StatusCode::OK)["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_form_without_this_sessions_token_changes_nothing() {
    let s = scene().await;
    let browser = s.app.browser(&s.alice, &s.laptop).await;
    let phone_browser = s.app.browser(&s.alice, &s.phone).await;
    let phones_token = bob_token(&s.app, &phone_browser).await;
    let act = [("act", "disconnect"), ("id", s.connection.as_str())];
    for token in [None, Some("forged"), Some(phones_token.as_str())] {
        let mut form = act.to_vec();
        if let Some(token) = token {
            form.push(("form_token", token));
        }
        let refused = s.app.submit(&browser, "/account/act", &form).await;
        assert_html(&refused, StatusCode::FORBIDDEN);
        assert_page_headers(&refused);
    }
    assert!(s.app.is_active(&s.reviewer.access).await);
    assert_eq!(s.app.connections(&s.alice).await[0]["status"], "connected");
}

#[tokio::test]
async fn signing_out_narrowing_and_revoking_from_the_page() {
    let s = scene().await;
    let browser = s.app.browser(&s.alice, &s.laptop).await;
    let token = hidden(
        &s.app
            .page(&browser, "/account/confirm?act=sign_out_others")
            .await
            .body,
        "form_token",
    )
    .unwrap();

    // Narrowing Planner: nothing of it runs, so nothing ends.
    let confirm = s
        .app
        .page(
            &browser,
            &format!(
                "/account/confirm?act=narrow_grant&id={}&scope=calendar.read",
                s.planner_grant
            ),
        )
        .await;
    assert!(
        confirm
            .body
            .contains("Keeping only calendar.read for Planner ends no session."),
        "{}",
        confirm.body
    );
    let done = s
        .app
        .submit(
            &browser,
            "/account/act",
            &[
                ("act", "narrow_grant"),
                ("id", &s.planner_grant),
                ("scope", "calendar.read"),
                ("form_token", &token),
            ],
        )
        .await;
    let location = done.header("location").unwrap().to_owned();
    let after = s.app.page(&browser, &location).await;
    assert!(
        after.body.contains("Done: no session had to end."),
        "{}",
        after.body
    );
    let grant = s.app.get(&format!("/v1/grants/{}", s.planner_grant)).await;
    assert_eq!(
        grant.assert_status(StatusCode::OK)["scopes"],
        json!(["calendar.read"])
    );

    // Everywhere else: the phone, and every agent acting for the person (as signing
    // out everywhere always does), each named.
    let confirm = s
        .app
        .page(&browser, "/account/confirm?act=sign_out_others")
        .await;
    assert!(
        confirm.body.contains("Signing out everywhere else ends 1 device session and 3 agent sessions: Mobile Safari on iOS 17 (iPhone) (device), Code Reviewer, its sub-agent Test Runner, and Release Bot."),
        "{}",
        confirm.body
    );
    s.app
        .submit(
            &browser,
            "/account/act",
            &[("act", "sign_out_others"), ("form_token", &token)],
        )
        .await;
    assert!(!s.app.is_active(&s.phone.token).await);
    assert!(!s.app.is_active(&s.release.access).await);
    assert!(!s.app.is_active(&s.runner.access).await);
    assert!(s.app.is_active(&s.laptop.token).await);

    // This device: the browser is signed out, its cookie cleared.
    let done = s
        .app
        .submit(
            &browser,
            "/account/act",
            &[
                ("act", "sign_out"),
                ("id", &s.laptop.id),
                ("form_token", &token),
            ],
        )
        .await;
    assert_eq!(done.header("location"), Some("/account/signed-out"));
    let out = s.app.page(&browser, "/account/signed-out").await;
    assert_html(&out, StatusCode::OK);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert!(!s.app.is_active(&s.laptop.token).await);
    assert_html(
        &s.app.page(&browser, "/account").await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn connecting_from_the_page_goes_through_its_cookie_and_comes_back_to_it() {
    use crate::support::connections::Carrying;
    let s = scene().await;
    let browser = s.app.browser(&s.alice, &s.laptop).await;
    let page = s.app.page(&browser, "/account").await;
    // acme is connected: the page offers to disconnect it, not to connect it.
    assert!(!page.body.contains("Connect acme</a>"));
    s.app
        .submit(
            &browser,
            "/account/act",
            &[
                ("act", "disconnect"),
                ("id", &s.connection),
                ("form_token", &bob_token(&s.app, &browser).await),
            ],
        )
        .await;
    let page = s.app.page(&browser, "/account").await;
    let return_to = "return_to=http%3A%2F%2F127.0.0.1%3A8080%2Faccount";
    // Offered once, on its card, not again under "Connect an integration".
    assert_eq!(
        page.body.matches("/v1/connections/acme/authorize").count(),
        1,
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("/v1/connections/acme/authorize?{return_to}")),
        "{}",
        page.body
    );
    // The browser follows "Connect" with its cookie, consents, and is sent back to the
    // page; only that cookie could finish it.
    let back = s
        .app
        .consented(
            &s.provider,
            &format!("?{return_to}"),
            &Carrying::Cookie(&browser.cookie),
        )
        .await;
    let refused = s.app.callback(&back, &Carrying::Nothing, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let back = s
        .app
        .consented(
            &s.provider,
            &format!("?{return_to}"),
            &Carrying::Cookie(&browser.cookie),
        )
        .await;
    let finished = s
        .app
        .callback(&back, &Carrying::Cookie(&browser.cookie), None)
        .await;
    assert_eq!(finished.status, StatusCode::FOUND, "{}", finished.body);
    assert!(
        finished
            .header("location")
            .unwrap()
            .starts_with("http://127.0.0.1:8080/account?")
    );
    assert_eq!(s.app.connections(&s.alice).await[0]["status"], "connected");
}

#[tokio::test]
async fn a_login_link_followed_many_times_at_once_signs_in_once() {
    let s = scene().await;
    let link = s.app.login_link(&s.alice, &s.laptop).await;
    let answers = futures_util::future::join_all((0..8).map(|_| s.app.follow(&link, None))).await;
    let signed_in = answers
        .iter()
        .filter(|a| a.status == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(
        signed_in,
        1,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(
        answers
            .iter()
            .all(|a| a.status == StatusCode::SEE_OTHER || a.status == StatusCode::GONE)
    );
}
