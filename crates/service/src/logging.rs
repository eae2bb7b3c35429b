//! Logging: one subscriber for every binary, writing to stderr (stdout stays free for a command's
//! output), filtered by `RUST_LOG` (default `info`). Errors are logged with their `Display` form,
//! so an error is one line, never a backtrace.

/// Installs the subscriber; a second call (in tests) is a no-op.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person's terminal, never in a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// An error and its causes on one line: `outer: inner: root`.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = e.source();
    }
    line.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading the block")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn an_error_chain_is_one_line_with_every_cause() {
        let e = Outer(std::io::Error::other("connection refused\n(os error 111)"));
        assert_eq!(
            one_line(&e),
            "reading the block: connection refused (os error 111)"
        );
    }
}
