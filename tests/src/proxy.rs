//! A TCP proxy a test can cut, to take a backend away from a running host and give it back.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

pub struct Proxy {
    address: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<JoinSet<()>>>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let proxy = Self { address: listener.local_addr().unwrap(), target, tasks: Default::default() };
        proxy.serve(listener).await;
        proxy
    }

    /// The address to give the host instead of the backend's.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Drops every connection and refuses new ones, as a lost backend would.
    pub async fn cut(&self) {
        self.tasks.lock().await.abort_all();
    }

    /// Accepts connections again, on the same address.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(self.address).await.expect("rebind proxy");
        self.serve(listener).await;
    }

    async fn serve(&self, listener: TcpListener) {
        let target = self.target;
        let accept = async move {
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut backend) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut backend).await;
                    }
                });
            }
        };
        // Aborting the accept loop drops the listener and, with it, every connection.
        self.tasks.lock().await.spawn(accept);
    }
}
