//! The one HTTP client for calls out of Leash (webhooks today, OAuth providers next).
//! Whoever chose the address — a caller registering a webhook, a provider's metadata —
//! may be hostile, so the client:
//!
//! - judges every resolved address at connect time, not only the URL when it was
//!   accepted (a name can be re-pointed at the internal network later), against
//!   `domain::network::is_public` unless private networks are allowed for this client;
//! - follows no redirects and reads no proxy from the environment;
//! - gives up after a timeout, and reads answers only up to a size limit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use url::Url;

use crate::domain::network;

/// How one client guards its calls.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Whether loopback, private and other special-purpose addresses may be called: an
    /// operator's choice for a target they run, never a caller's.
    pub allow_private: bool,
    /// Connect to last byte.
    pub timeout: Duration,
    pub user_agent: &'static str,
    /// Certificates (PEM) trusted besides the built-in roots: an operator's own CA.
    pub extra_roots_pem: Option<Vec<u8>>,
}

/// A client that calls only what its [`Guard`] allows; cheap to clone.
#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    allow_private: bool,
}

/// Resolves names, then drops every address that is not public.
struct PublicAddressesOnly;

impl Resolve for PublicAddressesOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = resolved.filter(|a| network::is_public(a.ip())).collect();
            if public.is_empty() {
                return Err("the name resolves to no public address".into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The call was not made: its address is not one this client may reach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the url points at a private, loopback or other special-purpose address")]
pub struct AddressRefused;

impl GuardedClient {
    pub fn new(guard: &Guard) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(guard.timeout)
            .connect_timeout(guard.timeout.min(Duration::from_secs(5)))
            .redirect(Policy::none())
            .no_proxy()
            .user_agent(guard.user_agent);
        if !guard.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicAddressesOnly));
        }
        if let Some(pem) = &guard.extra_roots_pem {
            for certificate in reqwest::Certificate::from_pem_bundle(pem)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        Ok(Self {
            client: builder.build()?,
            allow_private: guard.allow_private,
        })
    }

    /// A request to `url`, refused before any connection if its host is an address
    /// literal (which no resolver sees) this client may not reach.
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &Url,
    ) -> Result<reqwest::RequestBuilder, AddressRefused> {
        if !self.allow_private && !network::host_is_public(url) {
            return Err(AddressRefused);
        }
        Ok(self.client.request(method, url.clone()))
    }
}

/// Reads an answer's body up to `limit` bytes; past it, stops reading and answers
/// `None` (the answer is too large to be trusted).
pub async fn read_limited(mut response: reqwest::Response, limit: usize) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        if body.len() + chunk.len() > limit {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use super::*;

    #[tokio::test]
    async fn a_name_that_resolves_only_to_loopback_is_refused_when_connecting() {
        let resolved = PublicAddressesOnly
            .resolve(Name::from_str("localhost").unwrap())
            .await;
        let error = resolved.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("no public address"), "{error}");
    }

    #[test]
    fn address_literals_are_judged_before_connecting() {
        let strict = GuardedClient::new(&Guard {
            allow_private: false,
            timeout: Duration::from_secs(1),
            user_agent: "test",
            extra_roots_pem: None,
        })
        .unwrap();
        for raw in [
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:7f00:1::1]/",
            "http://[fec0::1]/",
            "http://[::ffff:0:7f00:1]/",
            "http://192.0.0.8/",
        ] {
            let url = Url::parse(raw).unwrap();
            assert!(strict.request(reqwest::Method::GET, &url).is_err(), "{raw}");
        }
        let url = Url::parse("https://hooks.example.com/").unwrap();
        assert!(strict.request(reqwest::Method::POST, &url).is_ok());
    }

    /// An answer of `size` bytes from a one-shot loopback server.
    async fn answer_of(size: usize) -> reqwest::Response {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") {
                let mut byte = [0; 1];
                socket.read_exact(&mut byte).await.unwrap();
                request.push(byte[0]);
            }
            let head =
                format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n");
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(&vec![b'x'; size]).await.unwrap();
        });
        let local = GuardedClient::new(&Guard {
            allow_private: true,
            timeout: Duration::from_secs(5),
            user_agent: "test",
            extra_roots_pem: None,
        })
        .unwrap();
        let url = Url::parse(&url).unwrap();
        local
            .request(reqwest::Method::GET, &url)
            .unwrap()
            .send()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_answer_is_read_up_to_its_limit_and_refused_past_it() {
        assert_eq!(
            read_limited(answer_of(10).await, 10).await,
            Some(vec![b'x'; 10])
        );
        assert_eq!(read_limited(answer_of(11).await, 10).await, None);
        assert_eq!(read_limited(answer_of(0).await, 10).await, Some(Vec::new()));
    }
}
