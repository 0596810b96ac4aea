//! A small HTTP/1.1 server on 127.0.0.1 for the download tests, with scriptable misbehaviour, and
//! the options of the test hubs.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hub_core::HubOptions;

/// How a route answers.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// 200 with the body (206 for a Range request).
    Ok,
    /// Always this status.
    Status(u16),
    /// This status for the first `n` requests, then `Ok`.
    FailFirst(u32, u16),
    /// Announce the full length but close after `at` bytes, for the first `times` requests.
    TruncateFirst { at: usize, times: u32 },
    /// Like `Ok` but ignores Range headers (always 200 from byte 0).
    NoRanges,
    /// Send the body in `chunk`-byte pieces with `delay` between them.
    Slow { chunk: usize, delay: Duration },
    /// Send the headers, then nothing for `for_` (to trip read timeouts).
    Stall(Duration),
    /// 302 to another path.
    Redirect(String),
    /// Pseudo-random bytes until the client goes away (at most 256 MiB), with this
    /// Content-Length header, or none (the body ends when the connection closes).
    Endless { announce: Option<u64> },
    /// The body one byte at a time, `delay` apart (a drip), with its true Content-Length.
    Drip(Duration),
    /// These bytes as the whole response, status line and headers included.
    Raw(Vec<u8>),
}

struct Route {
    body: Vec<u8>,
    behaviour: Behaviour,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    hits: HashMap<String, u32>,
    ranges: Vec<(String, Option<String>)>,
}

/// The server; stops accepting when dropped (its thread ends with the test process).
pub struct Server {
    pub port: u16,
    state: Arc<Mutex<State>>,
    /// Body bytes sent so far, all routes.
    pub sent: Arc<AtomicU64>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let sent = Arc::new(AtomicU64::new(0));
        let (st, se) = (state.clone(), sent.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (st, se) = (st.clone(), se.clone());
                std::thread::spawn(move || {
                    let _ = handle(stream, &st, &se);
                });
            }
        });
        Server { port, state, sent }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn route(&self, path: &str, body: impl Into<Vec<u8>>, behaviour: Behaviour) {
        self.state.lock().unwrap().routes.insert(path.to_owned(), Route { body: body.into(), behaviour });
    }

    pub fn set_behaviour(&self, path: &str, behaviour: Behaviour) {
        self.state.lock().unwrap().routes.get_mut(path).unwrap().behaviour = behaviour;
    }

    pub fn hits(&self, path: &str) -> u32 {
        self.state.lock().unwrap().hits.get(path).copied().unwrap_or(0)
    }

    /// The Range headers of the requests to `path`, in order.
    pub fn ranges(&self, path: &str) -> Vec<Option<String>> {
        self.state.lock().unwrap().ranges.iter().filter(|(p, _)| p == path).map(|(_, r)| r.clone()).collect()
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>, sent: &AtomicU64) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_owned());
            }
        }
    }
    let (body, behaviour, hit) = {
        let mut s = state.lock().unwrap();
        let hit = {
            let h = s.hits.entry(path.clone()).or_default();
            *h += 1;
            *h
        };
        s.ranges.push((path.clone(), range.clone()));
        match s.routes.get(&path) {
            Some(r) => (r.body.clone(), r.behaviour.clone(), hit),
            None => (Vec::new(), Behaviour::Status(404), hit),
        }
    };
    let mut out = stream;
    let status_only = |out: &mut TcpStream, code: u16| -> std::io::Result<()> {
        write!(out, "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    };
    let start = match (&behaviour, &range) {
        (Behaviour::NoRanges, _) | (_, None) => 0,
        (_, Some(r)) => r.trim_start_matches("bytes=").split('-').next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0),
    };
    let send = |out: &mut TcpStream, upto: Option<usize>, slow: Option<(usize, Duration)>| -> std::io::Result<()> {
        let start = start.min(body.len());
        if start > 0 {
            write!(
                out,
                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {}-{}/{}\r\nConnection: close\r\n\r\n",
                body.len() - start,
                start,
                body.len() - 1,
                body.len()
            )?;
        } else {
            write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n", body.len())?;
        }
        let end = upto.map_or(body.len(), |u| u.clamp(start, body.len()));
        let data = &body[start..end];
        match slow {
            None => {
                out.write_all(data)?;
                sent.fetch_add(data.len() as u64, Ordering::SeqCst);
            }
            Some((chunk, delay)) => {
                for piece in data.chunks(chunk) {
                    out.write_all(piece)?;
                    out.flush()?;
                    sent.fetch_add(piece.len() as u64, Ordering::SeqCst);
                    std::thread::sleep(delay);
                }
            }
        }
        out.flush()?;
        if upto.is_some() {
            out.shutdown(Shutdown::Both)?;
        }
        Ok(())
    };
    match behaviour {
        Behaviour::Ok | Behaviour::NoRanges => send(&mut out, None, None),
        Behaviour::Status(code) => status_only(&mut out, code),
        Behaviour::FailFirst(n, code) if hit <= n => status_only(&mut out, code),
        Behaviour::FailFirst(..) => send(&mut out, None, None),
        Behaviour::TruncateFirst { at, times } if hit <= times => send(&mut out, Some(at), None),
        Behaviour::TruncateFirst { .. } => send(&mut out, None, None),
        Behaviour::Slow { chunk, delay } => send(&mut out, None, Some((chunk, delay))),
        Behaviour::Stall(d) => {
            write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
            out.flush()?;
            std::thread::sleep(d);
            Ok(())
        }
        Behaviour::Redirect(to) => write!(out, "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        Behaviour::Endless { announce } => {
            match announce {
                Some(n) => write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n")?,
                None => write!(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")?,
            }
            let chunk = bytes(64 << 10, 99);
            for _ in 0..4096 {
                out.write_all(&chunk)?; // ends with an error once the client hangs up
                sent.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            Ok(())
        }
        Behaviour::Drip(delay) => {
            write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
            for b in &body {
                out.write_all(&[*b])?;
                out.flush()?;
                sent.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(delay);
            }
            Ok(())
        }
        Behaviour::Raw(raw) => out.write_all(&raw),
    }
}

/// Deterministic pseudo-random bytes.
pub fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Options for a test hub under `root`: 5 s timeouts, `retries` retries 10 ms apart, no torch
/// checkpoint folder.
pub fn options(root: &Path, retries: u32) -> HubOptions {
    let mut o = HubOptions::with_root(root);
    o.connect_timeout = Duration::from_secs(5);
    o.read_timeout = Duration::from_secs(5);
    o.retries = retries;
    o.backoff = Duration::from_millis(10);
    o.torch_checkpoints = None;
    o
}
