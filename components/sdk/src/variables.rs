//! The component's variables, from `[component.<id>.variables]` in the manifest.

pub use crate::bindings::joule::platform::variables::Error;
use crate::bindings::joule::platform::variables as wit;

pub fn get(name: &str) -> Result<String, Error> {
    wit::get(name)
}
