//! Blocking on the network backends: the one async runtime of the process
//! and the one "waiting for …" notice every backend prints.
//!
//! **The notice.** A request that has not finished after [`NOTICE_AFTER`]
//! makes rsops print `waiting for <what>…` on stderr, once, whatever stderr
//! is: at a terminal it tells a person why nothing happens, in a CI log it
//! is the line that explains a hang (issue 7 item 8; sops prints nothing).
//! `<what>` is the backend's own words (`AWS KMS: Encrypt with <arn>`,
//! `GCP KMS: …`, `Azure Key Vault: …`, `key service <uri>: …`, S3, GCS, and
//! Vault's `<address> ` with its historical space before the ellipsis). The
//! async backends get it from [`block_on`]; the blocking HTTP clients (Vault,
//! the GCS upload) from a [`Waiting`] guard, a watcher thread per request.
//!
//! Also here, as the async SDKs' common text: [`error_chain`].
//!
//! **The runtime.** The SDKs (AWS, GCP, Azure) and the gRPC key service
//! client are async; the rest of rsops is not. One current-thread tokio
//! runtime serves them all, made on the first [`block_on`] (a `OnceLock`
//! static), so a run that uses no such backend — an age-only decrypt — starts
//! no runtime, no thread and opens no socket. It is never shut down: it
//! lives as long as the process, as the per-backend runtimes it replaces did.
//!
//! **Several threads at once.** The key service server runs each request on
//! its own thread and calls the local wrap/unwrap dispatch, so AWS, GCP or
//! Azure calls may block on this runtime from several threads at the same
//! time. tokio documents that `Runtime::block_on` on a current-thread runtime
//! may be called concurrently: the first caller owns the I/O and timer
//! drivers, the others poll their own future on their own thread with the
//! drivers driven by the owner, and take the drivers over ("steal" them)
//! when it returns. So every caller makes progress, none needs the other to
//! finish first, and no worker thread is added. Tasks the SDKs spawn
//! (connection pools) run only while some thread is inside `block_on`; they
//! are the run's own connections, idle in between. What must not happen is
//! a call from inside an async context (tokio panics): every caller here is
//! synchronous code, the server's request threads included.

use std::io::Write as _;
use std::time::Duration;

/// After this long without an answer, stderr says what rsops waits for.
pub(crate) const NOTICE_AFTER: Duration = Duration::from_secs(3);

/// Prints the notice for `what` (`waiting for <what>…`) on stderr. A
/// failed write is ignored: the notice is a courtesy, not the result.
pub(crate) fn notice(what: &str) {
    let _ = writeln!(std::io::stderr(), "waiting for {what}…");
}

#[cfg(any(feature = "aws", feature = "gcp", feature = "azure", feature = "keyservice"))]
pub(crate) use runtime::block_on;

/// An SDK error and its sources, `: `-joined: what the AWS and Azure SDKs'
/// errors read as in sops's report (`DisplayErrorContext` without the
/// `Debug` dump it appends). hyper repeats its cause inside its own text,
/// so a source the text so far already ends with is skipped.
#[cfg(any(feature = "aws", feature = "azure"))]
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

#[cfg(any(feature = "aws", feature = "gcp", feature = "azure", feature = "keyservice"))]
mod runtime {
    use std::future::Future;
    use std::sync::OnceLock;
    use std::time::Duration;

    /// The process's runtime, or why it could not be made (asked again by
    /// nobody: a failure to make epoll/eventfd will not heal in a run).
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

    fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
        RUNTIME
            .get_or_init(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the async runtime: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Runs `fut` to completion on the process's runtime (made now if this
    /// is the first call), printing `waiting for <what>…` once if it takes
    /// longer than [`super::NOTICE_AFTER`]. The error is only the runtime's
    /// failure to start; the future's own result is the `Ok` value.
    ///
    /// Safe to call from several threads at once (see the module doc);
    /// must not be called from inside an async context.
    pub(crate) fn block_on<F: Future>(what: &str, fut: F) -> Result<F::Output, String> {
        Ok(drive(runtime()?, super::NOTICE_AFTER, fut, || super::notice(what)))
    }

    /// `fut` on `runtime`, calling `late` once when it is still pending
    /// after `after` (apart from [`block_on`] for the tests).
    fn drive<F: Future>(runtime: &tokio::runtime::Runtime, after: Duration, fut: F, late: impl FnOnce()) -> F::Output {
        runtime.block_on(async {
            let mut fut = std::pin::pin!(fut);
            match tokio::time::timeout(after, fut.as_mut()).await {
                Ok(out) => out,
                Err(_elapsed) => {
                    late();
                    fut.await
                }
            }
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::time::Instant;

        #[test]
        fn late_futures_get_one_notice_quick_ones_none() {
            let rt = runtime().unwrap();
            let calls = AtomicUsize::new(0);
            let slow = async {
                tokio::time::sleep(Duration::from_millis(150)).await;
                7
            };
            let out = drive(rt, Duration::from_millis(20), slow, || {
                calls.fetch_add(1, Ordering::SeqCst);
            });
            assert_eq!((out, calls.load(Ordering::SeqCst)), (7, 1));
            let out = drive(rt, Duration::from_secs(5), async { 8 }, || {
                calls.fetch_add(1, Ordering::SeqCst);
            });
            assert_eq!((out, calls.load(Ordering::SeqCst)), (8, 1));
        }

        #[test]
        fn one_runtime_for_the_process() {
            let here = std::ptr::from_ref(runtime().unwrap()) as usize;
            let there = std::thread::spawn(|| std::ptr::from_ref(runtime().unwrap()) as usize).join().unwrap();
            assert_eq!(here, there);
        }

        /// The key service server's case: several threads block on the one
        /// current-thread runtime at the same time, each waiting on timers
        /// and sockets the others' calls must not starve. They overlap, so
        /// the whole takes about one sleep, not one per thread.
        #[test]
        fn concurrent_callers_all_finish_and_overlap() {
            let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
            let addr = listener.local_addr().unwrap();
            let accepted = std::thread::spawn(move || {
                let mut conns = Vec::new();
                for _ in 0..4 {
                    conns.push(listener.accept().unwrap().0);
                }
                std::thread::sleep(Duration::from_millis(300));
                drop(conns);
            });
            let done = Arc::new(AtomicUsize::new(0));
            let start = Instant::now();
            let threads: Vec<_> = (0..4)
                .map(|i| {
                    let done = done.clone();
                    std::thread::spawn(move || {
                        let got = block_on("test", async move {
                            use tokio::io::AsyncReadExt as _;
                            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            let mut buf = [0u8; 1];
                            // The listener closes after 300 ms: EOF (100 if that
                            // never came because the callers ran one at a time).
                            let read = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
                            read.map_or(100, |r| r.unwrap_or(0)) + i
                        })
                        .unwrap();
                        done.fetch_add(1, Ordering::SeqCst);
                        got
                    })
                })
                .collect();
            let mut got: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            got.sort_unstable();
            accepted.join().unwrap();
            assert_eq!(got, [0, 1, 2, 3]);
            assert_eq!(done.load(Ordering::SeqCst), 4);
            assert!(start.elapsed() < Duration::from_secs(2), "callers ran one after the other");
        }
    }
}

/// Prints the notice for `what` once if the guarded blocking request takes
/// longer than [`NOTICE_AFTER`]; the watcher thread ends when the request
/// does (the guard is dropped), so nothing prints after a quick answer.
#[cfg(any(feature = "vault", feature = "gcp"))]
pub(crate) struct Waiting {
    done: Option<std::sync::mpsc::Sender<()>>,
}

#[cfg(any(feature = "vault", feature = "gcp"))]
impl Waiting {
    pub(crate) fn start(what: String) -> Waiting {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if rx.recv_timeout(NOTICE_AFTER) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                notice(&what);
            }
        });
        Waiting { done: Some(tx) }
    }
}

#[cfg(any(feature = "vault", feature = "gcp"))]
impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(all(test, any(feature = "aws", feature = "azure")))]
mod tests {
    use super::error_chain;

    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);

    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for E {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn sources_are_joined_and_repeats_skipped() {
        let inner = E("connection refused", None);
        let hyper = E("client error (Connect): connection refused", Some(Box::new(inner)));
        let top = E("dispatch failure", Some(Box::new(hyper)));
        assert_eq!(error_chain(&top), "dispatch failure: client error (Connect): connection refused");
        assert_eq!(error_chain(&E("alone", None)), "alone");
    }
}
