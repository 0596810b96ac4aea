//! The bodies of `infer`: the request's JSON and its inputs (JSON or binary tensors) in,
//! the outputs (JSON, or JSON then binary data) out.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::super::error::{json_response, ApiError, ModelLabel};

/// The header that gives the JSON part's length of a binary-data request or response.
pub(super) const HEADER_LENGTH: &str = "inference-header-content-length";

/// One tensor of a model's metadata.
#[derive(Debug, Clone)]
pub(super) struct TensorSpec {
    pub(super) name: &'static str,
    pub(super) datatype: &'static str,
    /// `-1`: any size.
    pub(super) shape: Vec<i64>,
}

impl TensorSpec {
    pub(super) fn new(name: &'static str, datatype: &'static str, shape: &[i64]) -> TensorSpec {
        TensorSpec { name, datatype, shape: shape.to_vec() }
    }

    pub(super) fn metadata(&self) -> Value {
        json!({ "name": self.name, "datatype": self.datatype, "shape": self.shape })
    }
}

#[derive(Deserialize, Debug)]
pub(super) struct InferRequest {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) parameters: Map<String, Value>,
    pub(super) inputs: Vec<RequestInput>,
    #[serde(default)]
    pub(super) outputs: Option<Vec<RequestOutput>>,
}

#[derive(Deserialize, Debug)]
pub(super) struct RequestInput {
    pub(super) name: String,
    pub(super) shape: Vec<i64>,
    pub(super) datatype: String,
    #[serde(default)]
    pub(super) parameters: Map<String, Value>,
    #[serde(default)]
    pub(super) data: Option<Value>,
}

#[derive(Deserialize, Debug)]
pub(super) struct RequestOutput {
    pub(super) name: String,
    #[serde(default)]
    pub(super) parameters: Map<String, Value>,
}

/// A decoded input tensor.
#[derive(Debug)]
pub(super) struct Input {
    pub(super) name: String,
    pub(super) shape: Vec<usize>,
    pub(super) data: Data,
}

#[derive(Debug)]
pub(super) enum Data {
    F32(Vec<f32>),
    Bytes(Vec<Vec<u8>>),
    /// A datatype that no model here takes (named in the error).
    Other(String),
}

/// A parsed request: its JSON and its inputs' values.
#[derive(Debug)]
pub(super) struct Request {
    pub(super) json: InferRequest,
    pub(super) inputs: Vec<Input>,
}

pub(super) fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// Splits off the binary part (when `Inference-Header-Content-Length` says there is one),
/// parses the JSON and decodes every input.
pub(super) fn parse_request(headers: &HeaderMap, body: Bytes) -> Result<Request, ApiError> {
    let (head, mut binary) = match headers.get(HEADER_LENGTH) {
        Some(v) => {
            let n: usize = v.to_str().ok().and_then(|s| s.trim().parse().ok()).ok_or_else(|| bad(format!("{HEADER_LENGTH} is not a number")))?;
            if n > body.len() {
                return Err(bad(format!("{HEADER_LENGTH} is {n} but the body has {} bytes", body.len())));
            }
            (body.slice(..n), body.slice(n..))
        }
        None => (body.clone(), Bytes::new()),
    };
    let json: InferRequest = serde_json::from_slice(&head).map_err(|e| bad(format!("the request is not a valid inference request: {e}")))?;
    let mut inputs = Vec::with_capacity(json.inputs.len());
    for input in &json.inputs {
        inputs.push(decode_input(input, &mut binary)?);
    }
    if !binary.is_empty() {
        return Err(bad(format!("{} bytes of binary data are not claimed by any input's binary_data_size", binary.len())));
    }
    Ok(Request { json, inputs })
}

pub(super) fn decode_input(input: &RequestInput, binary: &mut Bytes) -> Result<Input, ApiError> {
    let name = &input.name;
    let mut count: usize = 1;
    let mut shape = Vec::with_capacity(input.shape.len());
    for &d in &input.shape {
        let d = usize::try_from(d).map_err(|_| bad(format!("input {name:?}: shape {:?} has a negative dimension", input.shape)))?;
        count = count.checked_mul(d).ok_or_else(|| bad(format!("input {name:?}: shape {:?} is too large", input.shape)))?;
        shape.push(d);
    }
    let data = match input.parameters.get("binary_data_size") {
        Some(size) => {
            let size = size.as_u64().and_then(|s| usize::try_from(s).ok()).ok_or_else(|| bad(format!("input {name:?}: binary_data_size is not a byte count")))?;
            if size > binary.len() {
                return Err(bad(format!("input {name:?}: binary_data_size {size} but only {} bytes of binary data remain", binary.len())));
            }
            let raw = binary.split_to(size);
            decode_binary(name, &input.datatype, &raw, count)?
        }
        None => {
            let Some(data) = &input.data else { return Err(bad(format!("input {name:?} has no data (nor binary_data_size)"))) };
            let mut leaves = Vec::new();
            flatten(data, &mut leaves);
            decode_json(name, &input.datatype, &leaves, count)?
        }
    };
    Ok(Input { name: name.clone(), shape, data })
}

/// The leaves of nested JSON arrays, in row-major order.
pub(super) fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        leaf => out.push(leaf),
    }
}

pub(super) fn count_error(name: &str, got: usize, want: usize) -> ApiError {
    bad(format!("input {name:?} has {got} values but its shape holds {want}"))
}

pub(super) fn decode_json(name: &str, datatype: &str, leaves: &[&Value], count: usize) -> Result<Data, ApiError> {
    if leaves.len() != count {
        return Err(count_error(name, leaves.len(), count));
    }
    Ok(match datatype {
        "FP32" => Data::F32(
            leaves
                .iter()
                .map(|v| v.as_f64().map(|x| x as f32).ok_or_else(|| bad(format!("input {name:?} is FP32 but holds {v}"))))
                .collect::<Result<_, _>>()?,
        ),
        "BYTES" => Data::Bytes(
            leaves.iter().map(|v| v.as_str().map(|s| s.as_bytes().to_vec()).ok_or_else(|| bad(format!("input {name:?} is BYTES but holds {v} (not a string)")))).collect::<Result<_, _>>()?,
        ),
        other => known_datatype(name, other)?,
    })
}

pub(super) fn decode_binary(name: &str, datatype: &str, raw: &[u8], count: usize) -> Result<Data, ApiError> {
    Ok(match datatype {
        "FP32" => {
            if raw.len() != count * 4 {
                return Err(count_error(name, raw.len() / 4, count));
            }
            Data::F32(raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        "BYTES" => {
            // Each element: a 4-byte little-endian length, then its bytes.
            let mut items = Vec::new();
            let mut rest = raw;
            while !rest.is_empty() {
                let (len, tail) = rest.split_at_checked(4).ok_or_else(|| bad(format!("input {name:?}: truncated BYTES element length")))?;
                let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
                let (item, tail) = tail.split_at_checked(len).ok_or_else(|| bad(format!("input {name:?}: a BYTES element is longer than the data")))?;
                items.push(item.to_vec());
                rest = tail;
            }
            if items.len() != count {
                return Err(count_error(name, items.len(), count));
            }
            Data::Bytes(items)
        }
        other => known_datatype(name, other)?,
    })
}

/// A valid datatype no model takes is kept (and refused where an input is read); an invalid one is an error now.
pub(super) fn known_datatype(name: &str, datatype: &str) -> Result<Data, ApiError> {
    const TYPES: &[&str] = &["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BF16", "BYTES"];
    if TYPES.contains(&datatype) {
        Ok(Data::Other(datatype.to_owned()))
    } else {
        Err(bad(format!("input {name:?}: {datatype:?} is not a datatype of the protocol ({})", TYPES.join(", "))))
    }
}

/// An output tensor.
#[derive(Debug)]
pub(super) struct Output {
    pub(super) name: &'static str,
    pub(super) shape: Vec<usize>,
    pub(super) data: OutData,
}

#[derive(Debug)]
pub(super) enum OutData {
    F32(Vec<f32>),
    I64(Vec<i64>),
    Bytes(Vec<String>),
}

impl OutData {
    pub(super) fn datatype(&self) -> &'static str {
        match self {
            OutData::F32(_) => "FP32",
            OutData::I64(_) => "INT64",
            OutData::Bytes(_) => "BYTES",
        }
    }

    pub(super) fn json(&self) -> Value {
        match self {
            OutData::F32(v) => json!(v),
            OutData::I64(v) => json!(v),
            OutData::Bytes(v) => json!(v),
        }
    }

    pub(super) fn binary(&self) -> Vec<u8> {
        match self {
            OutData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            OutData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            OutData::Bytes(v) => v.iter().flat_map(|s| (s.len() as u32).to_le_bytes().into_iter().chain(s.bytes())).collect(),
        }
    }
}

impl Request {
    /// The one input called `name`, checked against `spec` (datatype; shape where fixed).
    pub(super) fn input(&self, spec: &TensorSpec) -> Result<Option<&Input>, ApiError> {
        let Some(input) = self.inputs.iter().find(|i| i.name == spec.name) else { return Ok(None) };
        let datatype = match &input.data {
            Data::F32(_) => "FP32",
            Data::Bytes(_) => "BYTES",
            Data::Other(t) => t.as_str(),
        };
        if datatype != spec.datatype {
            return Err(bad(format!("input {:?} must be {}, not {datatype}", spec.name, spec.datatype)));
        }
        let fits = input.shape.len() == spec.shape.len() && input.shape.iter().zip(&spec.shape).all(|(&got, &want)| want < 0 || got as i64 == want);
        if !fits {
            return Err(bad(format!("input {:?} has shape {:?}; this model takes {:?} (-1: any size)", spec.name, input.shape, spec.shape)));
        }
        Ok(Some(input))
    }

    /// The strings of a BYTES input, as UTF-8.
    pub(super) fn texts(&self, spec: &TensorSpec) -> Result<Option<Vec<String>>, ApiError> {
        let Some(input) = self.input(spec)? else { return Ok(None) };
        let Data::Bytes(items) = &input.data else { unreachable!("input() checked the datatype") };
        let texts = items.iter().map(|b| String::from_utf8(b.clone()).map_err(|_| bad(format!("input {:?} holds bytes that are not UTF-8 text", spec.name)))).collect::<Result<Vec<_>, _>>()?;
        if texts.is_empty() {
            return Err(bad(format!("input {:?} is empty", spec.name)));
        }
        Ok(Some(texts))
    }

    pub(super) fn required_texts(&self, spec: &TensorSpec) -> Result<Vec<String>, ApiError> {
        self.texts(spec)?.ok_or_else(|| bad(format!("this model needs the input {:?} ({} {:?})", spec.name, spec.datatype, spec.shape)))
    }

    /// A request-level parameter.
    pub(super) fn parameter(&self, name: &str) -> Option<&Value> {
        self.json.parameters.get(name)
    }

    /// What the client asked of the output `name`: `None` when it named outputs but not this one.
    pub(super) fn requested(&self, name: &str) -> Option<&Map<String, Value>> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        match &self.json.outputs {
            None => Some(EMPTY.get_or_init(Map::new)),
            Some(outs) if outs.is_empty() => Some(EMPTY.get_or_init(Map::new)),
            Some(outs) => outs.iter().find(|o| o.name == name).map(|o| &o.parameters),
        }
    }
}

/// The response: JSON, or JSON then binary data for the outputs asked as binary.
pub(super) fn respond(name: &str, version: &str, request: &Request, outputs: Vec<Output>) -> Result<Response, ApiError> {
    let all_binary = request.parameter("binary_data_output").and_then(Value::as_bool).unwrap_or(false);
    let mut binary = Vec::new();
    let mut listed = Vec::new();
    for out in outputs {
        let Some(params) = request.requested(out.name) else { continue };
        let as_binary = params.get("binary_data").and_then(Value::as_bool).unwrap_or(all_binary);
        let mut o = json!({ "name": out.name, "datatype": out.data.datatype(), "shape": out.shape });
        if as_binary {
            let bytes = out.data.binary();
            o["parameters"] = json!({ "binary_data_size": bytes.len() });
            binary.extend(bytes);
        } else {
            o["data"] = out.data.json();
        }
        listed.push(o);
    }
    let mut body = json!({ "model_name": name, "model_version": version, "outputs": listed });
    if let Some(id) = &request.json.id {
        body["id"] = json!(id);
    }
    if binary.is_empty() {
        return Ok(json_response(name, &body));
    }
    let mut bytes = serde_json::to_vec(&body).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let head = bytes.len();
    bytes.extend(binary);
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")), (header::HeaderName::from_static(HEADER_LENGTH), HeaderValue::from(head))],
        bytes,
    )
        .into_response();
    response.extensions_mut().insert(ModelLabel(name.to_owned()));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_binary_inputs_decode_to_the_same_values() {
        let body = br#"{"inputs":[{"name":"input","shape":[2,2],"datatype":"FP32","data":[[1,2],[3.5,-4]]}]}"#;
        let r = parse_request(&HeaderMap::new(), Bytes::from_static(body)).unwrap();
        assert_eq!(r.inputs[0].shape, [2, 2]);
        let Data::F32(json_values) = &r.inputs[0].data else { panic!("{:?}", r.inputs[0].data) };
        assert_eq!(json_values, &[1.0, 2.0, 3.5, -4.0]);

        let head = br#"{"inputs":[{"name":"input","shape":[2,2],"datatype":"FP32","parameters":{"binary_data_size":16}},{"name":"t","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}}]}"#;
        let mut body = head.to_vec();
        for x in [1.0f32, 2.0, 3.5, -4.0] {
            body.extend(x.to_le_bytes());
        }
        body.extend(2u32.to_le_bytes());
        body.extend(b"hi");
        body.extend(1u32.to_le_bytes());
        body.extend(b"!");
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_LENGTH, HeaderValue::from(head.len()));
        let r = parse_request(&headers, Bytes::from(body)).unwrap();
        let Data::F32(binary_values) = &r.inputs[0].data else { panic!() };
        assert_eq!(binary_values, json_values);
        let Data::Bytes(items) = &r.inputs[1].data else { panic!() };
        assert_eq!(items, &[b"hi".to_vec(), b"!".to_vec()]);
    }

    #[test]
    fn malformed_inputs_are_refused_with_a_reason() {
        let parse = |body: &str| parse_request(&HeaderMap::new(), Bytes::from(body.to_owned())).map(|_| ()).unwrap_err().message;
        assert!(parse("{").contains("not a valid inference request"));
        assert!(parse(r#"{"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1,2]}]}"#).contains("has 2 values but its shape holds 3"));
        assert!(parse(r#"{"inputs":[{"name":"x","shape":[-1],"datatype":"FP32","data":[1]}]}"#).contains("negative"));
        assert!(parse(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":["a"]}]}"#).contains("is FP32 but holds"));
        assert!(parse(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FLOAT","data":[1]}]}"#).contains("not a datatype"));
        assert!(parse(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]}"#).contains("has no data"));
    }

    #[test]
    fn binary_outputs_are_little_endian_and_bytes_are_length_prefixed() {
        assert_eq!(OutData::F32(vec![1.0]).binary(), 1.0f32.to_le_bytes());
        assert_eq!(OutData::Bytes(vec!["ab".into()]).binary(), [2, 0, 0, 0, b'a', b'b']);
    }
}
