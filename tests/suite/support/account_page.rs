//! The self-service page as a browser without JavaScript uses it: follow a login link,
//! keep its cookie, read pages, follow confirmations, post their forms.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use super::{RawAnswer, TestApp, TestSession, TestUser};

/// A laptop's browser, as a person signs in with it.
pub const MAC_FIREFOX: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:140.0) Gecko/20100101 Firefox/140.0";

impl TestApp {
    /// A user session signed in from `ip` with `user_agent`.
    pub async fn sign_in_from(&self, user: &TestUser, ip: &str, user_agent: &str) -> TestSession {
        self.sign_in_with(user, json!({ "ip_address": ip, "user_agent": user_agent }))
            .await
    }
}

/// A browser signed in to the page.
pub struct Browser {
    pub cookie: String,
}

impl TestApp {
    /// A login link for `session`, as the host application asks for it.
    pub async fn login_link(&self, user: &TestUser, session: &TestSession) -> String {
        let answer = self
            .post(
                &format!("/v1/users/{}/login-links", user.id),
                json!({ "user_session_id": session.id }),
            )
            .await;
        answer.assert_status(StatusCode::CREATED)["url"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Follows a link as a browser: answers what the browser got.
    pub async fn follow(&self, url: &str, cookie: Option<&str>) -> RawAnswer {
        let path = url.strip_prefix("http://127.0.0.1:8080").unwrap_or(url);
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, format!("leash_session={cookie}"));
        }
        self.send_raw(request.body(Body::empty()).unwrap()).await
    }

    /// Signs a browser in with a fresh login link for `session`.
    pub async fn browser(&self, user: &TestUser, session: &TestSession) -> Browser {
        let link = self.login_link(user, session).await;
        let answer = self.follow(&link, None).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let set = answer.header("set-cookie").unwrap().to_owned();
        let cookie = set
            .strip_prefix("leash_session=")
            .and_then(|rest| rest.split(';').next())
            .unwrap()
            .to_owned();
        Browser { cookie }
    }

    /// A page as `browser` sees it.
    pub async fn page(&self, browser: &Browser, path: &str) -> RawAnswer {
        self.follow(path, Some(&browser.cookie)).await
    }

    /// Posts a form of the page as `browser`.
    pub async fn submit(&self, browser: &Browser, path: &str, form: &[(&str, &str)]) -> RawAnswer {
        let request = Request::post(path)
            .header(header::COOKIE, format!("leash_session={}", browser.cookie))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(super::agents::form(form)))
            .unwrap();
        self.send_raw(request).await
    }
}

/// The value of the hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_owned())
}
