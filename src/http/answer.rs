//! Success answers with a status other than 200.

use aide::OperationOutput;
use aide::generate::GenContext;
use aide::openapi::{Operation, Response as ApiResponse, StatusCode as ApiStatus};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;

/// 201 Created with a JSON body.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, axum::Json(self.0)).into_response()
    }
}

impl<T: JsonSchema> OperationOutput for Created<T> {
    type Inner = T;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        axum::Json::<T>::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<ApiStatus>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|r| (Some(ApiStatus::Code(201)), r))
            .into_iter()
            .collect()
    }
}

/// 201 if this call created the resource, 200 if it already existed.
pub struct Upserted<T> {
    pub body: T,
    pub created: bool,
}

impl<T: Serialize> IntoResponse for Upserted<T> {
    fn into_response(self) -> Response {
        let status = if self.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        (status, axum::Json(self.body)).into_response()
    }
}

impl<T: JsonSchema> OperationOutput for Upserted<T> {
    type Inner = T;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        axum::Json::<T>::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<ApiStatus>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|r| {
                vec![
                    (Some(ApiStatus::Code(201)), r.clone()),
                    (Some(ApiStatus::Code(200)), r),
                ]
            })
            .unwrap_or_default()
    }
}

/// 302 Found to a URL: a browser is sent on (to a provider, or back to the host).
pub struct Found(pub String);

impl IntoResponse for Found {
    fn into_response(self) -> Response {
        (
            StatusCode::FOUND,
            [
                (header::LOCATION, self.0.as_str()),
                (header::CACHE_CONTROL, "no-store"),
                (header::REFERRER_POLICY, "no-referrer"),
            ],
        )
            .into_response()
    }
}

impl OperationOutput for Found {
    type Inner = ();

    fn operation_response(
        _ctx: &mut GenContext,
        _operation: &mut Operation,
    ) -> Option<ApiResponse> {
        Some(ApiResponse {
            description: "Found: the `Location` header says where the browser goes".to_owned(),
            ..Default::default()
        })
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<ApiStatus>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|r| (Some(ApiStatus::Code(302)), r))
            .into_iter()
            .collect()
    }
}

/// A small page for a person's browser: a title and one message, escaped, with nothing
/// it could load, run or leak (no script, no frame, no referrer).
pub struct HtmlPage {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
}

impl IntoResponse for HtmlPage {
    fn into_response(self) -> Response {
        let body = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\">\
             <title>{title} · Leash</title></head>\
             <body><main><h1>{title}</h1><p>{message}</p></main></body></html>\n",
            title = escape_html(&self.title),
            message = escape_html(&self.message),
        );
        (
            self.status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; frame-ancestors 'none'",
                ),
                (header::X_FRAME_OPTIONS, "DENY"),
                (header::REFERRER_POLICY, "no-referrer"),
            ],
            body,
        )
            .into_response()
    }
}

/// `raw` with the five characters HTML gives meaning to replaced by references.
fn escape_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The OAuth callback's answer: a redirect back to the host, a page for the person, or
/// a failure as problem+json (to a caller that accepts JSON) or as a page.
pub struct CallbackAnswer(pub Response);

impl IntoResponse for CallbackAnswer {
    fn into_response(self) -> Response {
        self.0
    }
}

impl OperationOutput for CallbackAnswer {
    type Inner = ();

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<ApiStatus>, ApiResponse)> {
        let page = |description: &str| {
            response_of(
                description,
                "text/html",
                schemars::json_schema!({ "type": "string" }),
            )
        };
        let mut failure = page("A page saying why nothing was connected");
        if let Some(problem) = crate::http::error::ApiError::operation_response(ctx, operation) {
            failure.content.extend(problem.content);
            failure.description =
                "Nothing was connected: a problem (RFC 9457) with a stable `code` to a caller \
                 that accepts JSON, a page otherwise"
                    .to_owned();
        }
        let mut found = Found::inferred_responses(ctx, operation);
        found.push((
            Some(ApiStatus::Code(200)),
            page("A page saying what was connected"),
        ));
        found.push((None, failure));
        found
    }
}

/// A `text/event-stream` answer (Server-Sent Events), each event's data a `T`.
pub struct EventStream<T> {
    response: Response,
    data: std::marker::PhantomData<T>,
}

impl<T> EventStream<T> {
    pub fn new(sse: impl IntoResponse) -> Self {
        Self {
            response: sse.into_response(),
            data: std::marker::PhantomData,
        }
    }
}

impl<T> IntoResponse for EventStream<T> {
    fn into_response(self) -> Response {
        self.response
    }
}

impl<T: JsonSchema> OperationOutput for EventStream<T> {
    type Inner = T;

    fn operation_response(ctx: &mut GenContext, _operation: &mut Operation) -> Option<ApiResponse> {
        let json_schema = ctx.schema.subschema_for::<T>();
        Some(response_of(
            "Server-Sent Events: `id` (a cursor to resume after), `event` (the event type) and \
             `data` (the event as JSON)",
            "text/event-stream",
            json_schema,
        ))
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<ApiStatus>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|r| (Some(ApiStatus::Code(200)), r))
            .into_iter()
            .collect()
    }
}

/// An OpenAPI response of one media type with one schema.
pub fn response_of(
    description: &str,
    content_type: &str,
    json_schema: schemars::Schema,
) -> ApiResponse {
    ApiResponse {
        description: description.to_owned(),
        content: [(
            content_type.to_owned(),
            aide::openapi::MediaType {
                schema: Some(aide::openapi::SchemaObject {
                    json_schema,
                    example: None,
                    external_docs: None,
                }),
                ..Default::default()
            },
        )]
        .into_iter()
        .collect(),
        ..Default::default()
    }
}
