//! Success answers with a status other than 200.

use aide::OperationOutput;
use aide::generate::GenContext;
use aide::openapi::{Operation, Response as ApiResponse, StatusCode as ApiStatus};
use axum::http::StatusCode;
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
