//! The self-service page in a real browser: Debian's Chromium, driven through WebDriver
//! (chromedriver, fantoccini). A person follows a login link, sees two devices and an
//! agent chain of depth 2 under a connection, presses "Disconnect", reads what it
//! would end, confirms, and the agents' tokens introspect inactive. Screenshots before
//! and after, at desktop width and at 375 px, go to `target/screenshots/`; axe-core
//! (npm, `tests/browser`) runs in each page and finds nothing serious or critical.
//!
//! It runs when chromium, chromedriver and axe-core are installed and is skipped with
//! a note otherwise, unless `LEASH_TEST_REQUIRE_BROWSER=1` (`.ci/run`), when their
//! absence fails it. It runs once, on SQLite: the page, not the engine, is under test.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::account_page::MAC_FIREFOX;
use crate::support::connections::with_provider;
use crate::support::fake_provider::FakeProvider;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

fn axe_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/node_modules/axe-core/axe.min.js")
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

/// Whether the test can run here; panics if it must and cannot.
fn browser_available() -> bool {
    let missing: Vec<String> = [Path::new(CHROMIUM), Path::new(CHROMEDRIVER), &axe_path()]
        .iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return std::env::var("LEASH_TEST_DATABASE_URL").is_err();
    }
    assert!(
        std::env::var("LEASH_TEST_REQUIRE_BROWSER").as_deref() != Ok("1"),
        "the browser test must run, but these are missing: {missing:?}"
    );
    eprintln!(
        "browser test skipped: {missing:?} missing (apt-get install chromium chromium-driver; \
         cd tests/browser && npm ci)"
    );
    false
}

/// chromedriver on a free port, ended when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> (Driver, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: profile,
    };
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage",
                format!("--user-data-dir={}", driver._profile.path().display()),
                "--window-size=1280,900",
            ],
        }),
    );
    let mut last = None;
    for _ in 0..50 {
        // chromedriver is on loopback: plain HTTP, no TLS stack.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&driver.url)
            .await
        {
            Ok(client) => return (driver, client),
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not answer: {last:?}");
}

/// Screenshots of the whole page at `width`, as `name-width.png`.
async fn screenshot(client: &Client, name: &str, width: u32) {
    client.set_window_size(width, 900).await.unwrap();
    let height = client
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(900);
    let height = u32::try_from(height).unwrap_or(900).clamp(600, 8000);
    client.set_window_size(width, height + 120).await.unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::create_dir_all(screenshots()).unwrap();
    std::fs::write(screenshots().join(format!("{name}-{width}.png")), png).unwrap();
    client.set_window_size(1280, 900).await.unwrap();
}

/// axe-core's serious and critical violations in the current page, at `width`.
async fn violations(client: &Client, width: u32) -> Vec<String> {
    client.set_window_size(width, 900).await.unwrap();
    let axe = std::fs::read_to_string(axe_path()).unwrap();
    client.execute(&axe, vec![]).await.unwrap();
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(r => done(
               r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                      v.nodes.map(n => n.target.join(' ')).join(', '))));",
            vec![],
        )
        .await
        .unwrap();
    client.set_window_size(1280, 900).await.unwrap();
    serde_json::from_value(found).unwrap()
}

/// Waits for a navigation (a click's) to land on `path`.
async fn arrive(client: &Client, path: &str) {
    for _ in 0..100 {
        if client.current_url().await.unwrap().path() == path
            && let Ok(state) = client.execute("return document.readyState;", vec![]).await
            && state == "complete"
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the browser did not arrive at {path}");
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn check_accessibility(client: &Client, page: &str) {
    for width in [1280, 375] {
        let found = violations(client, width).await;
        assert!(found.is_empty(), "{page} at {width} px: {found:#?}");
    }
}

#[tokio::test]
async fn a_person_disconnects_an_integration_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let provider = FakeProvider::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = TestApp::start_with(with_provider(
        provider.config("acme"),
        leash::usecase::Settings {
            public_url: base.clone(),
            ..leash::usecase::Settings::default()
        },
    ))
    .await;
    let router = app.router.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });

    // Alice, on a laptop and a phone; acme connected; Code Reviewer acting through acme
    // with its sub-agent Test Runner; Planner acting from the phone without acme.
    let alice = app.create_user("alice").await;
    let laptop = app.sign_in_from(&alice, "203.0.113.7", MAC_FIREFOX).await;
    let phone = app.sign_in_from(&alice, "198.51.100.4", ANDROID).await;
    app.connect(&provider, &alice, &laptop).await;
    let reviewer = app.register_agent("Code Reviewer", &["acme:repo"]).await;
    let runner = app.register_agent("Test Runner", &["acme:repo"]).await;
    let planner = app.register_agent("Planner", &["calendar.read"]).await;
    for agent in [&reviewer, &runner] {
        app.consent(&alice, agent, &["acme:repo"]).await;
    }
    app.consent(&alice, &planner, &["calendar.read"]).await;
    let reviewing = app.delegate(&reviewer, &laptop, None).await;
    let running = app.delegate_from(&runner, &reviewing.access, None).await;
    let planning = app.delegate(&planner, &phone, None).await;

    let (_driver, client) = start_driver().await;
    let link = app.login_link(&alice, &laptop).await;
    client.goto(&link).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/account");
    let devices = client
        .find_all(Locator::Css("section[aria-labelledby=devices] li.card"))
        .await
        .unwrap();
    assert_eq!(devices.len(), 2);
    let source = client.source().await.unwrap();
    for expected in [
        "Firefox on macOS",
        "This device",
        "Chrome Mobile on Android 14",
    ] {
        assert!(source.contains(expected), "{expected:?} is not on the page");
    }
    let sub_agent = text_of(&client, "ul.tree li.depth-2 h3").await;
    assert_eq!(sub_agent, "Sub-agent of Code Reviewer: Test Runner");
    screenshot(&client, "account-before", 1280).await;
    screenshot(&client, "account-before", 375).await;
    check_accessibility(&client, "/account").await;

    // Disconnect: first what it would end.
    client
        .find(Locator::XPath(
            "//form[.//input[@name='act' and @value='disconnect']]//button",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(&client, "/account/confirm").await;
    let radius = text_of(&client, "#radius-heading").await;
    assert_eq!(
        radius,
        "Disconnecting acme ends 2 agent sessions: Code Reviewer and its sub-agent Test Runner."
    );
    let listed: Vec<String> = {
        let mut texts = Vec::new();
        for item in client.find_all(Locator::Css("ul.ended li")).await.unwrap() {
            texts.push(item.text().await.unwrap());
        }
        texts
    };
    assert_eq!(listed, ["Code Reviewer", "its sub-agent Test Runner"]);
    screenshot(&client, "confirm-disconnect", 1280).await;
    screenshot(&client, "confirm-disconnect", 375).await;
    check_accessibility(&client, "/account/confirm").await;
    assert!(
        app.is_active(&running.access).await,
        "looking ended something"
    );

    client
        .find(Locator::Css("form.confirm button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(&client, "/account").await;
    client
        .wait()
        .for_element(Locator::Css(".notice"))
        .await
        .unwrap();
    let notice = text_of(&client, ".notice").await;
    assert_eq!(notice, "Done: 2 agent sessions ended.");
    screenshot(&client, "account-after", 1280).await;
    screenshot(&client, "account-after", 375).await;
    check_accessibility(&client, "/account after the disconnect").await;

    // Through the API: the chain is dead, the rest lives.
    for token in [&reviewing.access, &running.access] {
        let answer: Value = app.introspect(token).await;
        assert_eq!(answer["active"], false);
    }
    assert!(app.is_active(&planning.access).await);
    assert!(app.is_active(&laptop.token).await);
    client.close().await.unwrap();
}
