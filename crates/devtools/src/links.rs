//! P2P links between the validators of a localnet that a fault test can cut.
//!
//! Validator `i` dials validator `j` at a port of its own (`ports()[i][j]`) that relays to `j`'s
//! P2P port. [`Links::cut`] isolates one validator as a firewall that drops its packets would:
//! every byte to or from it is read and discarded, nothing is answered, new connections are
//! accepted and left silent. [`Links::heal`] closes whatever was open across the cut (its
//! encrypted streams lost bytes and could not resume) and relays new connections again, so the
//! peers redial as they do after a real partition. Only loopback, no privileges needed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One validator's state as the links see it.
#[derive(Default)]
struct Side {
    cut: AtomicBool,
    /// Bumped at every cut: a connection opened before it is closed once healed.
    cuts: AtomicU64,
}

impl Side {
    fn is_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}

/// The links of an `n`-validator localnet; stopped when dropped.
pub struct Links {
    ports: Vec<Vec<u16>>,
    sides: Arc<Vec<Side>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Links {
    /// Binds the `n * (n - 1)` relay ports (on free ports, so nothing can take them between
    /// choosing and listening) and relays each to `p2p[j]`.
    pub async fn start(p2p: &[u16]) -> std::io::Result<Links> {
        let n = p2p.len();
        let sides: Arc<Vec<Side>> = Arc::new((0..n).map(|_| Side::default()).collect());
        let mut ports = vec![vec![0u16; n]; n];
        let mut tasks = vec![];
        for (i, row) in ports.iter_mut().enumerate() {
            for (j, port) in row.iter_mut().enumerate() {
                if i == j {
                    continue;
                }
                let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
                *port = listener.local_addr()?.port();
                tasks.push(tokio::spawn(accept(
                    listener,
                    (i, j),
                    p2p[j],
                    Arc::clone(&sides),
                )));
            }
        }
        Ok(Links {
            ports,
            sides,
            tasks,
        })
    }

    /// `ports()[i][j]`: where validator `i` dials validator `j` (0 on the diagonal).
    pub fn ports(&self) -> &[Vec<u16>] {
        &self.ports
    }

    /// Drops every byte to and from validator `node`.
    pub fn cut(&self, node: usize) {
        if let Some(side) = self.sides.get(node) {
            side.cuts.fetch_add(1, Ordering::SeqCst);
            side.cut.store(true, Ordering::SeqCst);
        }
    }

    /// Relays validator `node`'s traffic again (connections that lived through the cut close).
    pub fn heal(&self, node: usize) {
        if let Some(side) = self.sides.get(node) {
            side.cut.store(false, Ordering::SeqCst);
        }
    }
}

impl Drop for Links {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn accept(listener: TcpListener, ends: (usize, usize), target: u16, sides: Arc<Vec<Side>>) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            // Out of descriptors, say: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let sides = Arc::clone(&sides);
        tokio::spawn(async move {
            let _ = relay(inbound, ends, target, &sides).await;
        });
    }
}

/// Relays one connection from validator `ends.0` to validator `ends.1` until either side
/// closes it or it lived through a cut of either end that has since healed.
async fn relay(
    mut inbound: TcpStream,
    (from, to): (usize, usize),
    target: u16,
    sides: &[Side],
) -> std::io::Result<()> {
    let cuts = |sides: &[Side]| {
        (
            sides[from].cuts.load(Ordering::SeqCst),
            sides[to].cuts.load(Ordering::SeqCst),
        )
    };
    let is_cut = |sides: &[Side]| sides[from].is_cut() || sides[to].is_cut();
    let opened = cuts(sides);
    // Opened while cut: the dial goes nowhere; stay silent until healed, then hang up.
    if is_cut(sides) {
        let mut sink = [0u8; 16 * 1024];
        loop {
            tokio::select! {
                read = inbound.read(&mut sink) => if matches!(read, Ok(0) | Err(_)) { return Ok(()) },
                _ = tokio::time::sleep(Duration::from_millis(200)) => if !is_cut(sides) { return Ok(()) },
            }
        }
    }
    let mut outbound = TcpStream::connect(("127.0.0.1", target)).await?;
    let (mut in_read, mut in_write) = inbound.split();
    let (mut out_read, mut out_write) = outbound.split();
    let mut up = [0u8; 64 * 1024];
    let mut down = [0u8; 64 * 1024];
    loop {
        tokio::select! {
            read = in_read.read(&mut up) => {
                let n = read?;
                if n == 0 { return Ok(()); }
                if !is_cut(sides) { out_write.write_all(&up[..n]).await?; }
            }
            read = out_read.read(&mut down) => {
                let n = read?;
                if n == 0 { return Ok(()); }
                if !is_cut(sides) { in_write.write_all(&down[..n]).await?; }
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        if !is_cut(sides) && cuts(sides) != opened {
            return Ok(());
        }
    }
}
