//! Prism as a child process (`prism mock` or `prism proxy`), for the tests that start their own:
//! `tests/fidelity.rs` and `tests/sessions_prism.rs` (included there with `#[path]`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port of 127.0.0.1 (closed again: something may take it before it is used).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// True once something on `addr` answers an HTTP request.
fn answers_http(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}

/// A running Prism; dropping it stops it.
pub struct Prism {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Prism's output, in cargo's scratch directory for integration tests (inside whatever
    /// target directory cargo uses).
    pub log: PathBuf,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prism {
    /// `prism mock <spec>`, or with an upstream `prism proxy <spec> <upstream>`, with
    /// `--errors`; waits (real time, blocking) until it answers.
    pub fn start(bin: &Path, spec: &Path, upstream: Option<&str>, log_name: &str) -> Prism {
        let port = free_port();
        let log =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("prism-{log_name}-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let mut command = Command::new(bin);
        match upstream {
            Some(upstream) => command.arg("proxy").arg(spec).arg(upstream),
            None => command.arg("mock").arg(spec),
        };
        let child = command
            .args([
                "--errors",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut prism = Prism {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while !answers_http(addr) {
            if let Ok(Some(status)) = prism.child.try_wait() {
                panic!("Prism exited ({status}); see {}", prism.log.display());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "Prism did not answer within 60 s; see {}",
                prism.log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        prism
    }
}
