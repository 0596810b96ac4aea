//! What handlers answer with: [`ApiError`] (`{"error": "..."}` with its status), JSON
//! responses tagged with their model, and the request limits (body size, deadline).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_body_bytes: usize,
    pub timeout: Duration,
}

/// The model a response was about (set by handlers, read by the request logger for the metrics).
#[derive(Clone, Debug)]
pub(crate) struct ModelLabel(pub String);

/// An error answered as `{"error": "..."}` with its status.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub model: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), model: None }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn for_model(mut self, name: &str) -> ApiError {
        self.model.get_or_insert_with(|| name.to_owned());
        self
    }

    /// A library error: the caller's input (400), something unknown (404), the network or
    /// offline (502/503), or the server's own failure (500).
    pub fn from_model(e: &hub_models::Error) -> ApiError {
        use hub_core::Error as H;
        use hub_models::Error as M;
        let status = match e {
            M::BadInput { .. } | M::Preprocess(_) | M::Tokenizer(_) | M::Generation(_) | M::WrongTask { .. } => StatusCode::BAD_REQUEST,
            M::Hub(h) => match h {
                H::UnknownEntry { .. } | H::UnknownWeights { .. } | H::ModelFilesMissing { .. } | H::NoManifest { .. } | H::HttpStatus { status: 404, .. } => StatusCode::NOT_FOUND,
                H::Offline { .. } => StatusCode::SERVICE_UNAVAILABLE,
                H::HttpStatus { .. } | H::Network { .. } | H::MalformedResponse { .. } | H::Truncated { .. } | H::TooSlow { .. } | H::Redirect { .. } => StatusCode::BAD_GATEWAY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, chain(e))
    }
}

/// An error and its causes on one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(serde_json::json!({ "error": self.message }))).into_response();
        if let Some(m) = self.model {
            response.extensions_mut().insert(ModelLabel(m));
        }
        response
    }
}

/// A JSON response (sorted keys, as `hub run --json` writes them) about `model`.
pub(crate) fn json_response(model: &str, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_value(value).and_then(|v| serde_json::to_vec(&v));
    let mut response = match body {
        Ok(body) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("serialising the response: {e}")).into_response(),
    };
    response.extensions_mut().insert(ModelLabel(model.to_owned()));
    response
}

/// Reads a request body of at most `limits.max_body_bytes` (413 beyond), by `deadline` (408).
pub(crate) async fn read_body(body: Body, limits: &Limits, deadline: tokio::time::Instant) -> Result<Bytes, ApiError> {
    let max = limits.max_body_bytes;
    match tokio::time::timeout_at(deadline, axum::body::to_bytes(body, max)).await {
        Err(_) => Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, format!("the request body did not arrive within {:.0} s (--timeout-s)", limits.timeout.as_secs_f64()))),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            // axum reports an over-long body as a length-limit error somewhere in the chain.
            let text = chain(&e);
            if text.to_ascii_lowercase().contains("length limit") {
                Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is larger than --max-body-bytes {max}")))
            } else {
                Err(ApiError::bad_request(format!("reading the request body: {text}")))
            }
        }
    }
}

/// `work`, or a 504 when `deadline` passes first.
pub(crate) async fn within<T>(deadline: tokio::time::Instant, work: impl std::future::Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
    tokio::time::timeout_at(deadline, work)
        .await
        .unwrap_or_else(|_| Err(ApiError::new(StatusCode::GATEWAY_TIMEOUT, "the request did not finish within --timeout-s (the model may still be loading; try again)")))
}
