//! A TCP proxy in front of Postgres that counts the writes from the client's side: each one
//! is a request the client then waits on, so their number is the number of round trips.

use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::postgres::PgConnectOptions;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Starts the proxy for the database at `url`; returns the URL through it and the count.
pub async fn start(url: &str) -> (String, Arc<AtomicUsize>) {
    let options = PgConnectOptions::from_str(url).unwrap();
    let upstream = format!("{}:{}", options.get_host(), options.get_port());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxied = url.replacen(&upstream, &listener.local_addr().unwrap().to_string(), 1);
    assert_ne!(proxied, url, "the URL names {upstream}");
    let sends = Arc::new(AtomicUsize::new(0));
    let counted = sends.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(&upstream).await.unwrap();
            tokio::spawn(relay(client, server, counted.clone()));
        }
    });
    (proxied, sends)
}

async fn relay(client: TcpStream, server: TcpStream, sends: Arc<AtomicUsize>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async move {
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(read) = client_read.read(&mut buffer).await {
            if read == 0 || server_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
            sends.fetch_add(1, Ordering::SeqCst);
        }
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    };
    tokio::join!(upstream, downstream);
}
