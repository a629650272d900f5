//! Sends the outbound request a test asks for: `GET /fetch?url=<url>` fetches `url` and
//! answers `{"status": ..., "body": "..."}`, or 502 with the error the host gave the guest,
//! so a test can see the `allowed_outbound_hosts` grant applied at the call.

use serde_json::json;
use spin_sdk::http::{Request, Response};

fn json(status: u16, body: serde_json::Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

#[spin_sdk::http_component]
async fn handle(request: Request) -> Response {
    let Some(url) = request.query().split('&').find_map(|pair| pair.strip_prefix("url=")) else {
        return json(400, json!({ "error": "give the URL to fetch as ?url=" }));
    };
    let outbound = Request::get(url).build();
    match spin_sdk::http::send::<_, Response>(outbound).await {
        Ok(response) => {
            let body = String::from_utf8_lossy(response.body()).into_owned();
            json(200, json!({ "status": response.status(), "body": body }))
        }
        Err(e) => json(502, json!({ "error": e.to_string() })),
    }
}
