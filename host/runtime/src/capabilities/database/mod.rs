//! The `database` capability: SQL inside the invocation's unit of work, on the component's
//! own database (see `crate::database`, which the runner settles).

mod host;

use wasmtime::component::Linker;

use super::shape::{Capability, Load, Start, View, ViewOf};
use crate::manifest::Grants;

pub(crate) struct Database;

impl Capability for Database {
    const NAME: &'static str = "database";
    const GRANT_HINT: &'static str = "add a [component.<id>.database] table";
    const INTERFACES: &'static [&'static str] = &[joule_world::interface_names::DATABASE];
    /// The database itself is opened with the unit of work, which needs it granted or not.
    type Component = ();
    type State = ();

    fn is_granted(grants: &Grants) -> bool {
        grants.database.is_some()
    }

    fn component(&self, _: &Load<'_>) {}

    fn state(_: &(), _: &Start<'_>) {}

    fn add_to_linker<T: Send + 'static>(linker: &mut Linker<T>, view: fn(&mut T) -> View<'_, ()>) -> anyhow::Result<()> {
        Ok(joule_world::database::add_to_linker::<_, ViewOf<()>>(linker, view)?)
    }
}
