//! Reading one request on the loopback HTTP servers that stand for an operator's feed endpoint.
//! The ingestion crate's pull tests and the binary's tests are different crates, so both include
//! this file with `#[path]` rather than each keeping its own copy.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;

/// The request target and the `Authorization` header (empty when absent) of the request on
/// `stream`; `None` when its request line cannot be read. The servers answer GET requests only,
/// so nothing follows the headers.
pub fn read_request(stream: &TcpStream) -> Option<(String, String)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let target = first
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let mut auth = String::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("authorization:") {
            auth = v.trim().to_owned();
        }
    }
    Some((target, auth))
}
