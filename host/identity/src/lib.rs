//! Who is calling. The HTTP trigger hands this crate the request's bearer token and the
//! route's policy, and gets back the verified caller or the reason to refuse.
//!
//! - Tokens are JWTs signed with an asymmetric algorithm (RS256, ES256 or EdDSA), verified
//!   against the keys of a trusted issuer: an OpenID Connect provider whose keys come from
//!   its discovery document, or, when none is configured, Joule's own development issuer.
//! - Keys are fetched ahead of the requests that need them and cached; a token naming a key
//!   the cache lacks triggers one refetch, at most every few seconds per issuer.
//! - A verified token is remembered until it expires (five minutes at most), so a caller's
//!   later requests cost no signature check.

mod cache;
mod dev_issuer;
mod error;
mod fetch;
mod keys;
mod policy;
mod principal;
mod remote;
mod verifier;

pub use dev_issuer::DevIssuer;
pub use error::{IdentityError, TokenError};
pub use policy::{Auth, Refusal, RoutePolicy, authorize};
pub use principal::Principal;
pub use verifier::{IdentitySettings, Verifier};
