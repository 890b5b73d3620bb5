//! A fake provider upstream on a real loopback socket, speaking HTTP/1.1 by hand so faults can
//! be injected exactly: an error status with headers, an SSE body chunk by chunk with delays,
//! a connection dropped mid-body, a hang. Each request takes the next scripted reply (the
//! last one repeats) and is recorded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the upstream answers to one request.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    /// A complete response with a JSON (or any) body.
    Body {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// A 200 event stream: each event's data after its delay; `drop_after` closes the
    /// connection abruptly after that many events (no terminating chunk).
    Sse {
        events: Vec<(Duration, String)>,
        drop_after: Option<usize>,
    },
    /// Accept the request and never answer.
    Hang,
}

impl Reply {
    pub(crate) fn status(status: u16, body: &str) -> Self {
        Self::Body {
            status,
            headers: vec![],
            body: body.to_owned(),
        }
    }

    pub(crate) fn sse(events: &[&str]) -> Self {
        Self::Sse {
            events: events
                .iter()
                .map(|e| (Duration::ZERO, (*e).to_owned()))
                .collect(),
            drop_after: None,
        }
    }
}

/// A recorded request.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    pub(crate) head: String,
    pub(crate) body: String,
}

pub(crate) struct Upstream {
    pub(crate) base_url: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl Upstream {
    pub(crate) async fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&recorded);
        tokio::spawn(async move {
            let mut served = 0;
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let reply = script.get(served).or(script.last()).cloned().unwrap();
                served += 1;
                let log = Arc::clone(&log);
                tokio::spawn(async move { serve(socket, reply, log).await });
            }
        });
        Self { base_url, recorded }
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }
}

async fn serve(mut socket: TcpStream, reply: Reply, log: Arc<Mutex<Vec<Recorded>>>) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    log.lock().unwrap().push(request);
    match reply {
        Reply::Body {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} Status\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("connection: close\r\n\r\n");
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
        }
        Reply::Sse { events, drop_after } => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for (index, (delay, data)) in events.into_iter().enumerate() {
                if drop_after == Some(index) {
                    return;
                }
                tokio::time::sleep(delay).await;
                let frame = format!("data: {data}\n\n");
                let chunk = format!("{:x}\r\n{frame}\r\n", frame.len());
                if socket.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
                let _ = socket.flush().await;
            }
            if drop_after.is_none() {
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
        }
        Reply::Hang => tokio::time::sleep(Duration::from_secs(3600)).await,
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(position) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break position + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..]).into_owned();
    Some(Recorded { head, body })
}
