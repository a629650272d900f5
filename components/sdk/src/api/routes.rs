//! Routing an API request to its handler. Paths and methods no handler takes get the API's
//! JSON 404 and 405, the 405 with the `Allow` header RFC 9110 requires of it.

use spin_sdk::http::{IntoResponse, Method, Params, Request, Response, Router};

use super::ApiError;

/// The routes of one component. Paths are literal segments and `:name` parameters.
#[derive(Default)]
pub struct Routes {
    router: Router,
    table: Vec<(Method, &'static str)>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get<R: IntoResponse + 'static>(&mut self, path: &'static str, handler: fn(Request, Params) -> R) {
        self.add(Method::Get, path, handler);
    }

    pub fn post<R: IntoResponse + 'static>(&mut self, path: &'static str, handler: fn(Request, Params) -> R) {
        self.add(Method::Post, path, handler);
    }

    pub fn put<R: IntoResponse + 'static>(&mut self, path: &'static str, handler: fn(Request, Params) -> R) {
        self.add(Method::Put, path, handler);
    }

    pub fn patch<R: IntoResponse + 'static>(&mut self, path: &'static str, handler: fn(Request, Params) -> R) {
        self.add(Method::Patch, path, handler);
    }

    pub fn delete<R: IntoResponse + 'static>(&mut self, path: &'static str, handler: fn(Request, Params) -> R) {
        self.add(Method::Delete, path, handler);
    }

    fn add<R: IntoResponse + 'static>(&mut self, method: Method, path: &'static str, handler: fn(Request, Params) -> R) {
        self.router.add(path, method.clone(), handler);
        self.table.push((method, path));
    }

    /// Answers a request with its handler, or with a JSON 404 or 405.
    pub fn handle(&self, request: Request) -> Response {
        let path = request.path().to_string();
        let response = self.router.handle(request);
        // spin-sdk's own 404 and 405 are plain text, without a content type.
        let plain = response.header("content-type").is_none();
        match *response.status() {
            404 if plain => ApiError::new(404, "not_found", "no such resource").into(),
            405 if plain => {
                let mut response: Response =
                    ApiError::new(405, "method_not_allowed", "this method is not allowed on this resource").into();
                response.set_header("allow", self.allowed(&path).join(", "));
                response
            }
            _ => response,
        }
    }

    /// The methods some route takes on `path`, HEAD wherever GET is (spin-sdk answers it).
    fn allowed(&self, path: &str) -> Vec<&'static str> {
        let mut methods = Vec::new();
        for (method, _) in self.table.iter().filter(|(_, pattern)| matches(pattern, path)) {
            let names: &[&'static str] = match method {
                Method::Get => &["GET", "HEAD"],
                Method::Post => &["POST"],
                Method::Put => &["PUT"],
                Method::Patch => &["PATCH"],
                Method::Delete => &["DELETE"],
                _ => &[],
            };
            for name in names {
                if !methods.contains(name) {
                    methods.push(*name);
                }
            }
        }
        methods
    }
}

/// Whether `path` fits `pattern`, segment by segment; a `:name` segment takes any non-empty one.
fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    pattern.len() == path.len()
        && pattern.iter().zip(&path).all(|(want, got)| if want.starts_with(':') { !got.is_empty() } else { want == got })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(_: Request, _: Params) -> Response {
        Response::new(200, "ok")
    }

    fn routes() -> Routes {
        let mut routes = Routes::new();
        routes.get("/api/v1/stations/:id", ok);
        routes.patch("/api/v1/stations/:id", ok);
        routes.delete("/api/v1/stations/:id", ok);
        routes.post("/api/v1/stations", ok);
        routes
    }

    #[test]
    fn names_the_methods_each_path_takes() {
        let routes = routes();
        assert_eq!(routes.allowed("/api/v1/stations/abc"), ["GET", "HEAD", "PATCH", "DELETE"]);
        assert_eq!(routes.allowed("/api/v1/stations"), ["POST"]);
        assert!(routes.allowed("/api/v1/stations/abc/more").is_empty());
    }

    #[test]
    fn parameters_take_one_non_empty_segment() {
        assert!(matches("/a/:id/b", "/a/x/b"));
        assert!(matches("/a/:id", "/a/x/"));
        assert!(!matches("/a/:id", "/a//"));
        assert!(!matches("/a/:id", "/a/x/y"));
        assert!(!matches("/a/b", "/a/c"));
    }
}
