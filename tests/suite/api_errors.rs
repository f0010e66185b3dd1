//! Hostile and malformed input: every failure is problem+json with a stable code, and
//! nothing a caller sends produces a 500.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn malformed_json_wrong_types_and_unknown_fields_are_refused_by_name() {
    let app = TestApp::start().await;
    let key = Some(app.admin_key.as_str());
    let json_type = Some("application/json");
    let send =
        |body: &'static str| app.send(Method::POST, "/v1/users", key, json_type, Body::from(body));

    send("{\"external_id\":")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_json");
    send("[1, 2]")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    send("{\"external_id\": 42}")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    send("{}")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let unknown = send("{\"external_id\": \"a\", \"is_admin\": true}").await;
    unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert!(
        unknown.body["detail"]
            .as_str()
            .unwrap()
            .contains("is_admin")
    );
    app.send(
        Method::POST,
        "/v1/users",
        key,
        Some("text/plain"),
        Body::from("{}"),
    )
    .await
    .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    app.send(Method::POST, "/v1/users", key, None, Body::from("{}"))
        .await
        .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn an_id_of_the_wrong_kind_in_a_body_is_refused() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let answer = app
        .post(
            &format!("/v1/users/{}/sign-out-everywhere", alice.id),
            json!({ "except_session_id": alice.id }),
        )
        .await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_it_is_read() {
    let app = TestApp::start().await;
    let huge = format!("{{\"external_id\": \"{}\"}}", "a".repeat(70 * 1024));
    app.send(
        Method::POST,
        "/v1/users",
        Some(&app.admin_key),
        Some("application/json"),
        Body::from(huge.clone()),
    )
    .await
    .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    // Without a length up front (a streamed body), the limit still holds.
    let stream = futures_stream(huge);
    app.send(
        Method::POST,
        "/v1/users",
        Some(&app.admin_key),
        Some("application/json"),
        stream,
    )
    .await
    .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
}

fn futures_stream(text: String) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = text
        .into_bytes()
        .chunks(8192)
        .map(|c| Ok(c.to_vec()))
        .collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn bad_pagination_is_refused() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let path = |query: &str| format!("/v1/users/{}/sessions?{query}", alice.id);
    app.get(&path("cursor=not%20a%20cursor"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_cursor");
    app.get(&path("limit=0"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_limit");
    app.get(&path("limit=1000"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_limit");
    app.get(&path("limit=many"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
    app.get(&path("status=sleeping"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
    app.get(&path("colour=blue"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
}

#[tokio::test]
async fn credentials_are_checked_before_anything_else() {
    let app = TestApp::start().await;
    let body = || Body::from("{\"external_id\":\"a\"}");
    let json_type = Some("application/json");
    let missing = app
        .send(Method::POST, "/v1/users", None, json_type, body())
        .await;
    missing.assert_problem(StatusCode::UNAUTHORIZED, "missing_credentials");
    assert_eq!(
        missing.www_authenticate.as_deref(),
        Some("Bearer realm=\"leash\"")
    );
    app.send(
        Method::POST,
        "/v1/users",
        Some("leash_ak_forged"),
        json_type,
        body(),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let introspect = app.key(leash::domain::api_key::Role::Introspect).await;
    app.send(
        Method::POST,
        "/v1/users",
        Some(&introspect),
        json_type,
        body(),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "wrong_role");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = TestApp::start().await;
    app.get("/v1/nothing-here")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.send(
        Method::DELETE,
        "/v1/users",
        Some(&app.admin_key),
        None,
        Body::empty(),
    )
    .await
    .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn a_problem_carries_the_request_id() {
    let app = TestApp::start().await;
    let answer = app
        .get("/v1/users/usr_0123456789abcdef0123456789abcdef")
        .await;
    answer.assert_problem(StatusCode::NOT_FOUND, "user_not_found");
    assert!(
        answer.body["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
}

/// Sends one HTTP/1.1 request on `stream` and reads the answer's head.
async fn exchange_head(stream: &mut tokio::net::TcpStream, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The server may answer and close before the whole body is written.
    let _ = stream.write_all(request).await;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "closed without an answer"
        );
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap().to_ascii_lowercase()
}

/// An error answer to a request with a body says the connection closes: the body may be
/// unread (too large, or behind a refused key), and then hyper closes it either way; a
/// client that kept it for its next request found it closed without an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_leaves_the_body_unread_closes_the_connection_and_says_so() {
    let database = crate::support::TestDatabase::fresh().await;
    let url = database.url();
    let key = crate::cli::leash(&url, &["keys", "create", "--role", "admin"]);
    let key = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    let instance = crate::support::serve::Instance::start(&url, &[]).await;
    let address = instance.base.trim_start_matches("http://").to_owned();
    let request = |authorization: &str, body: &str| {
        format!(
            "POST /v1/users HTTP/1.1\r\nhost: leash\r\nauthorization: {authorization}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let huge = format!("{{\"external_id\": \"{}\"}}", "a".repeat(200 * 1024));
    for (authorization, body) in [
        (format!("Bearer {key}"), huge.as_str()),
        (
            "Bearer leash_ak_wrong".to_owned(),
            r#"{"external_id": "bob"}"#,
        ),
    ] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = exchange_head(&mut stream, request(&authorization, body).as_bytes()).await;
        assert!(head.contains("connection: close"), "{head}");
    }
    // A body read to its end keeps the connection for the next request.
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    for name in ["carol", "dave"] {
        let body = format!("{{\"external_id\": \"{name}\"}}");
        let head = exchange_head(
            &mut stream,
            request(&format!("Bearer {key}"), &body).as_bytes(),
        )
        .await;
        assert!(head.starts_with("http/1.1 201"), "{head}");
        assert!(!head.contains("connection: close"), "{head}");
        use tokio::io::AsyncReadExt;
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut rest = vec![0u8; length];
        stream.read_exact(&mut rest).await.unwrap();
    }
}
